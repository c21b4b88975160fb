//! `dictum encode`: sparse-code signals from `.npy` files and write scipy-compatible codes.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use dictum::coding::{Encoder, Method, Valid};
use dictum::io::dtype::DType;
use dictum::io::npy::MappedNpy;
use dictum::io::npz::Compression;
use dictum::linalg::exec::{Event, Exec};
use dictum::{Mat, MatRef, Real};

use crate::coder::{CoderArg, CoderFlags, DtypeArg};
use crate::error::Result;
use crate::report::summary;

/// What `dictum encode` was asked to do.
#[derive(Debug, clap::Args)]
pub(crate) struct EncodeArgs {
    /// Dictionary D (.npy): d x m in Fortran order, or m x d in C order (atoms as rows).
    #[arg(long = "dict")]
    dict: PathBuf,
    /// Signals Y (.npy): d x N in Fortran order, or N x d in C order (samples as rows).
    #[arg(long)]
    signals: PathBuf,
    /// Coder.
    #[arg(long, value_enum, default_value = "batch-omp")]
    method: CoderArg,
    /// Non-zeros per signal (OMP/MP target; LARS limit; top-k for threshold).
    #[arg(long)]
    k: Option<usize>,
    /// Squared residual norm at which OMP/MP stop (error-constrained coding).
    #[arg(long)]
    tol: Option<f64>,
    /// l1 weight λ of ½‖y − Dx‖² + λ‖x‖₁ (lars, fista, ista, soft-threshold).
    #[arg(long)]
    lambda: Option<f64>,
    /// Elastic-net ridge weight λ₂ (+ ½λ₂‖x‖²) for lars, fista, ista.
    #[arg(long)]
    lambda2: Option<f64>,
    /// Relative threshold τ in (0, 1] for `threshold` without --k.
    #[arg(long)]
    threshold: Option<f64>,
    /// Non-negative codes.
    #[arg(long)]
    nonneg: bool,
    /// Normalize the dictionary's atoms instead of refusing a dictionary that is not unit-norm.
    #[arg(long)]
    normalize: bool,
    /// Threads and device.
    #[command(flatten)]
    run: crate::exec::RunArgs,
    /// Compute in f32 or f64 (default: f32 when both files are f32, else f64).
    #[arg(long, value_enum)]
    dtype: Option<DtypeArg>,
    /// Output codes, m x N CSC in scipy's .npz format (scipy.sparse.load_npz reads it).
    #[arg(long)]
    out: PathBuf,
}

pub(crate) fn run(args: &EncodeArgs) -> Result<()> {
    let dict_file = MappedNpy::open(&args.dict)?;
    let sig_file = MappedNpy::open(&args.signals)?;
    let both_f32 = dict_file.header().dtype == DType::F32 && sig_file.header().dtype == DType::F32;
    let use_f32 = args.dtype.map_or(both_f32, |t| t == DtypeArg::F32);
    let flags = CoderFlags {
        k: args.k,
        tol: args.tol,
        lambda: args.lambda,
        lambda2: args.lambda2,
        positive: args.nonneg,
        threshold: args.threshold,
    };
    let method = args.method.method(&flags)?.check()?;
    let bar = crate::report::progress_bar(
        0,
        "{spinner} coding [{bar:40}] {pos}/{len} signals ({eta} left)",
    );
    let show = |e: &Event<'_>| {
        if let Event::Progress(p) = e
            && p.stage == "encode"
        {
            bar.set_length(p.total as u64);
            bar.set_position(p.done as u64);
        }
    };
    let result = crate::exec::run(&args.run, 0, &show, |exec, threads| {
        if use_f32 {
            code::<f32>(args, &method, &dict_file, &sig_file, exec, threads)
        } else {
            code::<f64>(args, &method, &dict_file, &sig_file, exec, threads)
        }
    });
    bar.finish_and_clear();
    print!("{}", result?);
    Ok(())
}

/// The file as a `T` matrix: borrowed from the mapping when the dtype matches, else converted.
pub(crate) fn matrix<'a, T: Real>(
    file: &'a MappedNpy,
    owned: &'a mut Option<Mat<T>>,
) -> Result<MatRef<'a, T>> {
    if let Ok(m) = file.matrix::<T>() {
        return Ok(m);
    }
    Ok(owned.insert(file.to_mat::<T>()?).as_ref())
}

fn code<T: Real>(
    args: &EncodeArgs,
    method: &Valid<Method>,
    dict_file: &MappedNpy,
    sig_file: &MappedNpy,
    exec: &Exec<'_>,
    threads: usize,
) -> Result<String>
where
    Valid<Method>: Encoder<T>,
{
    let (mut d_owned, mut y_owned) = (None, None);
    let d = matrix::<T>(dict_file, &mut d_owned)?;
    let y = matrix::<T>(sig_file, &mut y_owned)?;
    let n = y.ncols();
    let start = Instant::now();
    let codes = dictum::encode(d, y, method, args.normalize, exec)?;
    let elapsed = start.elapsed();
    // The error is measured against the dictionary the codes refer to.
    let rel = if args.normalize {
        let (unit, _) = dictum::coding::Dictionary::normalized(d)?;
        dictum::relative_error(unit.as_ref(), y, &codes, exec)?
    } else {
        dictum::relative_error(d, y, &codes, exec)?
    };
    let mut out = String::new();
    dictum::io::sparse::save_csc(&args.out, &codes, Compression::Deflate)?;
    summary!(
        out,
        "method        {} ({}, {threads} threads)",
        method.params().name(),
        T::NAME
    );
    summary!(out, "dictionary    {} x {} (d x m)", d.nrows(), d.ncols());
    summary!(out, "signals       N = {n}");
    summary!(
        out,
        "mean nnz      {:.3}",
        codes.nnz() as f64 / n.max(1) as f64
    );
    summary!(out, "rel. error    {rel:.6}  (‖Y − D·X‖_F / ‖Y‖_F)");
    summary!(out, "wall time     {}", human(elapsed));
    summary!(
        out,
        "codes         {} ({} x {} CSC, scipy .npz)",
        args.out.display(),
        codes.nrows(),
        codes.ncols()
    );
    Ok(out)
}

pub(crate) fn human(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}
