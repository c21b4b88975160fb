//! `dictum learn`: learn a dictionary from signals in a `.npy` file and write the dictionary,
//! codes, history and pictures to a folder.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use dictum::coding::{Encoder, Method, MethodSpec};
use dictum::io::dtype::DType;
use dictum::io::npy::{MappedNpy, MatrixLayout, write_matrix};
use dictum::io::npz::Compression;
use dictum::learn::dictionary::{
    AtomUpdate, IterationStats, KMeans, Ksvd, LearnOptions, Learned, Mod, Online,
};
use dictum::{Par, Real};
use indicatif::{ProgressBar, ProgressStyle};

use crate::encode::{human, matrix};
use crate::render;

/// Dictionary-learning algorithms `dictum learn` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LearnMethod {
    /// K-SVD: exact rank-1 atom updates, one atom at a time.
    Ksvd,
    /// Approximate K-SVD: one power-iteration step per atom.
    ApproxKsvd,
    /// Batched parallel K-SVD (DB-KSVD): `--batch` atoms updated in parallel.
    BatchedKsvd,
    /// Method of optimal directions: least-squares dictionary update.
    Mod,
    /// Online learning (Mairal et al. 2010, SPAMS trainDL): `--iters` mini-batches of
    /// `--batch-size` signals.
    Online,
    /// k-means (k-means++ seeding): normalized centres as atoms, 1-sparse codes;
    /// `--signals-per-iter B` makes it mini-batch k-means.
    Kmeans,
    /// Spherical k-means: unit centres, assignment by cosine similarity.
    SphericalKmeans,
}

/// What `dictum learn` was asked to do.
#[derive(Debug, clap::Args)]
pub(crate) struct LearnArgs {
    /// Signals Y (.npy): d x N in Fortran order, or N x d in C order (samples as rows).
    #[arg(long)]
    signals: PathBuf,
    /// Atoms to learn (m).
    #[arg(long)]
    atoms: usize,
    /// Learning algorithm.
    #[arg(long, value_enum, default_value = "ksvd")]
    method: LearnMethod,
    /// Coding step: any `dictum encode --method` (batch-omp, lars, ...).
    #[arg(long, default_value = "batch-omp")]
    coder: String,
    /// Non-zeros per signal for the coding step.
    #[arg(long)]
    k: Option<usize>,
    /// Squared residual norm at which OMP stops (error-constrained coding).
    #[arg(long)]
    tol: Option<f64>,
    /// l1 weight for the lars/fista coding steps.
    #[arg(long)]
    lambda: Option<f64>,
    /// Iterations (mini-batches for online).
    #[arg(long, default_value_t = 30)]
    iters: usize,
    /// Atoms per parallel batch (batched-ksvd).
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Signals per mini-batch (online).
    #[arg(long, default_value_t = 256)]
    batch_size: usize,
    /// Signals per iteration, drawn at random (default: all).
    #[arg(long)]
    signals_per_iter: Option<usize>,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Compute in f32 or f64 (default: the file's type).
    #[arg(long)]
    dtype: Option<String>,
    /// Output folder: D.npy, X.npz, history.csv, loss.png, atoms.png (square patches).
    #[arg(long)]
    out: PathBuf,
}

pub(crate) fn run(args: &LearnArgs) -> dictum::Result<()> {
    let file = MappedNpy::open(&args.signals)?;
    let use_f32 = match args.dtype.as_deref() {
        None => file.header().dtype == DType::F32,
        Some("f32" | "float32") => true,
        Some("f64" | "float64") => false,
        Some(other) => return Err(bad("dtype", other, "use f32 or f64")),
    };
    let needs_coder = !matches!(
        args.method,
        LearnMethod::Kmeans | LearnMethod::SphericalKmeans
    );
    if needs_coder && args.k.is_none() && args.tol.is_none() && args.lambda.is_none() {
        return Err(bad(
            "k",
            "unset",
            "give the coding step a target: --k K (non-zeros), --tol EPS or --lambda L",
        ));
    }
    let spec = MethodSpec {
        k: args.k.or((!needs_coder).then_some(1)),
        tol: args.tol,
        lambda: args.lambda,
        ..MethodSpec::default()
    };
    let coder = Method::from_spec(&args.coder, &spec)?;
    std::fs::create_dir_all(&args.out).map_err(|e| dictum::io::IoError::Io {
        path: args.out.clone(),
        source: e,
    })?;
    crate::pool::with_threads("learn", args.threads, |par, threads| {
        if use_f32 {
            fit::<f32>(args, &coder, &file, par, threads)
        } else {
            fit::<f64>(args, &coder, &file, par, threads)
        }
    })
}

fn bad(name: &'static str, value: &str, hint: &'static str) -> dictum::Error {
    dictum::learn::LearnError::InvalidParameter {
        method: "learn",
        name,
        value: value.into(),
        hint,
    }
    .into()
}

fn fit<T: Real>(
    args: &LearnArgs,
    coder: &Method,
    file: &MappedNpy,
    par: Par,
    threads: usize,
) -> dictum::Result<()>
where
    Method: Encoder<T>,
{
    let mut owned = None;
    let y = matrix::<T>(file, &mut owned)?;
    let bar = iteration_bar(args.iters as u64);
    let report = |s: &IterationStats| {
        bar.set_position(s.iter as u64);
        bar.set_message(format!("error {:.4}, nnz {:.2}", s.rel_error, s.mean_nnz));
    };
    let opts = LearnOptions::new(par).on_iteration(&report);
    let start = Instant::now();
    let learned: Learned<T> = match args.method {
        LearnMethod::Mod => {
            let mut m = Mod::new(args.atoms, coder.clone())
                .max_iter(args.iters)
                .seed(args.seed);
            if let Some(b) = args.signals_per_iter {
                m = m.signals_per_iter(b);
            }
            m.fit(y, &opts)?
        }
        LearnMethod::Kmeans | LearnMethod::SphericalKmeans => {
            let mut km = KMeans::new(args.atoms)
                .spherical(args.method == LearnMethod::SphericalKmeans)
                .max_iter(args.iters)
                .seed(args.seed);
            if let Some(b) = args.signals_per_iter {
                km = km.batch_size(b);
            }
            km.fit_dictionary(y, &opts)?
        }
        LearnMethod::Online => Online::new(args.atoms, coder.clone())
            .batch_size(args.batch_size)
            .max_iter(args.iters)
            .report_every((args.iters / 100).max(1))
            .seed(args.seed)
            .fit(y, &opts)?,
        method => {
            let mut k = Ksvd::new(args.atoms, coder.clone())
                .max_iter(args.iters)
                .seed(args.seed);
            if method == LearnMethod::ApproxKsvd {
                k = k.update(AtomUpdate::Approximate);
            }
            if method == LearnMethod::BatchedKsvd {
                k = k.atoms_per_batch(args.batch.max(2)).shuffle_atoms(true);
            }
            if let Some(b) = args.signals_per_iter {
                k = k.signals_per_iter(b);
            }
            k.fit(y, &opts)?
        }
    };
    let elapsed = start.elapsed();
    bar.finish_and_clear();
    write_outputs(&args.out, &learned)?;
    let last = learned.history.last();
    let coder_name = match args.method {
        LearnMethod::Kmeans | LearnMethod::SphericalKmeans => "nearest centre",
        _ => coder.name(),
    };
    println!(
        "method        {:?} ({}, {threads} threads), coding {coder_name}",
        args.method,
        T::NAME
    );
    println!("signals       {} x {} (d x N)", y.nrows(), y.ncols());
    println!("atoms         {}", args.atoms);
    println!(
        "iterations    {} (stopped: {})",
        last.map_or(0, |s| s.iter),
        learned.stop.name()
    );
    if let Some(s) = last {
        println!("rel. error    {:.6}  (‖Y − D·X‖_F / ‖Y‖_F)", s.rel_error);
        println!("mean nnz      {:.3}", s.mean_nnz);
    }
    println!("wall time     {}", human(elapsed));
    println!("outputs       {}", args.out.display());
    Ok(())
}

fn iteration_bar(len: u64) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} learning [{bar:30}] iter {pos}/{len} {msg} ({eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// D.npy (atoms as rows, as scikit-learn's `components_`), X.npz, history.csv, loss.png and,
/// for square patches, atoms.png.
pub(crate) fn write_outputs<T: Real>(out: &Path, learned: &Learned<T>) -> dictum::Result<()> {
    let d = &learned.dictionary;
    write_matrix(out.join("D.npy"), d.as_ref(), MatrixLayout::SamplesAsRows)?;
    dictum::io::sparse::save_csc(out.join("X.npz"), &learned.codes, Compression::Deflate)?;
    write_history(&out.join("history.csv"), &learned.history)?;
    let errors: Vec<f64> = learned.history.iter().map(|s| s.rel_error).collect();
    dictum::io::png::write_rgb(&out.join("loss.png"), &render::line_plot(&errors))?;
    let p = (d.nrows() as f64).sqrt().round() as usize;
    if p * p == d.nrows() {
        dictum::io::png::write_rgb(&out.join("atoms.png"), &render::atom_grid(d.as_ref(), p, 4))?;
    }
    Ok(())
}

pub(crate) fn write_history(path: &Path, history: &[IterationStats]) -> dictum::Result<()> {
    dictum::io::atomic::write_atomic(path, |w| {
        let io = |e| dictum::io::IoError::Io {
            path: path.to_path_buf(),
            source: e,
        };
        writeln!(
            w,
            "iter,rel_error,mean_rel_residual,mean_nnz,replaced,seconds"
        )
        .map_err(io)?;
        for s in history {
            writeln!(
                w,
                "{},{:.8},{:.8},{:.4},{},{:.4}",
                s.iter, s.rel_error, s.mean_rel_residual, s.mean_nnz, s.replaced, s.seconds
            )
            .map_err(io)?;
        }
        Ok(())
    })?;
    Ok(())
}
