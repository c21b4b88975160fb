//! `dictum learn`: learn a dictionary from signals in a `.npy` file and write the dictionary,
//! codes, history and pictures to a folder.

use std::path::{Path, PathBuf};
use std::time::Instant;

use dictum::coding::{Encoder, Method, MethodSpec};
use dictum::io::dtype::DType;
use dictum::io::npy::{MappedNpy, MatrixLayout, write_matrix};
use dictum::io::npz::Compression;
use dictum::learn::dictionary::{
    Amortized, AtomUpdate, IterationStats, KMeans, Ksvd, LearnOptions, Learned, Matryoshka, Mod,
    Online, TaskDriven, TaskLoss,
};
use dictum::{Mat, MatRef, Par, Real};

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
    /// Amortized: a linear encoder + softmax gives the codes, trained with the dictionary by
    /// Adam (`--iters` epochs); writes the encoder as W.npy and b.npy.
    Amortized,
    /// Task-driven (Mairal et al. 2012): dictionary and linear model trained on
    /// `--targets` through the elastic-net codes (`--lambda`); writes W.npy and c.npy.
    TaskDriven,
}

/// The supervised loss of `--method task-driven`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LossArg {
    /// ½‖W·x + c − t‖² (regression; targets p x N).
    Squared,
    /// log(1 + exp(−t·(w·x + c))) (binary; targets ±1).
    Logistic,
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
    /// Nested Matryoshka coding (K-SVD family): atom groups doubling from 64, `--k` shared.
    #[arg(long)]
    matryoshka: bool,
    /// Targets for task-driven learning (.npy): p x N Fortran, N x p C order, or N labels.
    #[arg(long)]
    targets: Option<PathBuf>,
    /// Loss of task-driven learning.
    #[arg(long, value_enum, default_value = "squared")]
    loss: LossArg,
    /// Step size (amortized: Adam's; task-driven: ρ).
    #[arg(long)]
    learning_rate: Option<f64>,
    /// Softmax temperature of amortized learning.
    #[arg(long, default_value_t = 1.0)]
    temperature: f64,
    /// Signals per mini-batch (online, amortized, task-driven).
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
    /// Output folder: D.npy, X.npz, history.csv, loss.png, atoms.png (square patches); W.npy
    /// and b.npy/c.npy for amortized and task-driven learning.
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
        LearnMethod::Kmeans
            | LearnMethod::SphericalKmeans
            | LearnMethod::Amortized
            | LearnMethod::TaskDriven
    );
    if needs_coder && args.k.is_none() && args.tol.is_none() && args.lambda.is_none() {
        return Err(bad(
            "k",
            "unset",
            "give the coding step a target: --k K (non-zeros), --tol EPS or --lambda L",
        ));
    }
    // Learners with their own coding get a placeholder coder that is never run.
    let spec = MethodSpec {
        k: if needs_coder { args.k } else { Some(1) },
        tol: args.tol.filter(|_| needs_coder),
        lambda: args.lambda.filter(|_| needs_coder),
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
    let bar = crate::report::progress_bar(
        args.iters as u64,
        "{spinner} learning [{bar:30}] iter {pos}/{len} {msg} ({eta} left)",
    );
    let report = |s: &IterationStats| {
        bar.set_position(s.iter as u64);
        bar.set_message(format!("error {:.4}, nnz {:.2}", s.rel_error, s.mean_nnz));
    };
    let opts = LearnOptions::new(par).on_iteration(&report);
    let start = Instant::now();
    if matches!(
        args.method,
        LearnMethod::Amortized | LearnMethod::TaskDriven
    ) {
        let r = gradient_fit::<T>(args, y, &opts);
        bar.finish_and_clear();
        r?;
        println!(
            "method        {:?} ({}, {threads} threads)",
            args.method,
            T::NAME
        );
        println!("signals       {} x {} (d x N)", y.nrows(), y.ncols());
        println!("wall time     {}", human(start.elapsed()));
        println!("outputs       {}", args.out.display());
        return Ok(());
    }
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
        _ if args.matryoshka => {
            let k = args.k.ok_or_else(|| {
                bad(
                    "k",
                    "unset",
                    "--matryoshka shares --k non-zeros among the groups",
                )
            })?;
            ksvd(args, Matryoshka::new(k), y, &opts)?
        }
        _ => ksvd(args, coder.clone(), y, &opts)?,
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

fn ksvd<T: Real, E: Encoder<T>>(
    args: &LearnArgs,
    coder: E,
    y: MatRef<'_, T>,
    opts: &LearnOptions<'_>,
) -> dictum::Result<Learned<T>> {
    let mut k = Ksvd::new(args.atoms, coder)
        .max_iter(args.iters)
        .seed(args.seed);
    if args.method == LearnMethod::ApproxKsvd {
        k = k.update(AtomUpdate::Approximate);
    }
    if args.method == LearnMethod::BatchedKsvd {
        k = k.atoms_per_batch(args.batch.max(2)).shuffle_atoms(true);
    }
    if let Some(b) = args.signals_per_iter {
        k = k.signals_per_iter(b);
    }
    Ok(k.fit(y, opts)?)
}

/// Amortized and task-driven learning: their models are more than a dictionary and codes.
fn gradient_fit<T: Real>(
    args: &LearnArgs,
    y: MatRef<'_, T>,
    opts: &LearnOptions<'_>,
) -> dictum::Result<()> {
    let out = &args.out;
    let rows =
        |m: MatRef<'_, T>, name: &str| write_matrix(out.join(name), m, MatrixLayout::Fortran);
    let (dict, history) = if args.method == LearnMethod::Amortized {
        let mut a = Amortized::new(args.atoms)
            .epochs(args.iters)
            .batch_size(args.batch_size)
            .temperature(args.temperature)
            .seed(args.seed);
        if let Some(lr) = args.learning_rate {
            a = a.learning_rate(lr);
        }
        let fit = a.fit(y, opts)?;
        rows(fit.model.weights.as_ref(), "W.npy")?;
        let b = Mat::from_fn(fit.model.bias.len(), 1, |i, _| fit.model.bias[i]);
        rows(b.as_ref(), "b.npy")?;
        (fit.model.dictionary, fit.history)
    } else {
        let path = args.targets.as_ref().ok_or_else(|| {
            bad(
                "targets",
                "unset",
                "task-driven learning needs --targets T.npy",
            )
        })?;
        let tf = MappedNpy::open(path)?;
        let mut owned = None;
        let t = matrix::<T>(&tf, &mut owned)?;
        // A vector of N labels reads as 1 x N or N x 1: make it 1 x N.
        let t: Mat<T> = if t.ncols() == 1 && t.nrows() == y.ncols() {
            t.transpose().to_owned()
        } else {
            t.to_owned()
        };
        let lambda = args
            .lambda
            .ok_or_else(|| bad("lambda", "unset", "task-driven codes need --lambda"))?;
        let mut td = TaskDriven::new(args.atoms, lambda)
            .loss(match args.loss {
                LossArg::Squared => TaskLoss::Squared,
                LossArg::Logistic => TaskLoss::Logistic,
            })
            .epochs(args.iters)
            .batch_size(args.batch_size)
            .seed(args.seed);
        if let Some(lr) = args.learning_rate {
            td = td.learning_rate(lr);
        }
        let fit = td.fit(y, t.as_ref(), opts)?;
        rows(fit.model.weights.as_ref(), "W.npy")?;
        let c = Mat::from_fn(fit.model.bias.len(), 1, |i, _| fit.model.bias[i]);
        rows(c.as_ref(), "c.npy")?;
        println!(
            "task loss     {:.6} -> {:.6} (first -> last epoch)",
            fit.losses[0],
            fit.losses[fit.losses.len() - 1]
        );
        (fit.model.dictionary, fit.history)
    };
    write_matrix(
        out.join("D.npy"),
        dict.as_ref(),
        MatrixLayout::SamplesAsRows,
    )?;
    write_history(&out.join("history.csv"), &history)?;
    let errors: Vec<f64> = history.iter().map(|s| s.rel_error).collect();
    dictum::io::png::write_rgb(&out.join("loss.png"), &render::line_plot(&errors))?;
    let p = (dict.nrows() as f64).sqrt().round() as usize;
    if p * p == dict.nrows() {
        dictum::io::png::write_rgb(
            &out.join("atoms.png"),
            &render::atom_grid(dict.as_ref(), p, 4),
        )?;
    }
    Ok(())
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
    crate::report::write_csv(
        path,
        "iter,rel_error,mean_rel_residual,mean_nnz,replaced,seconds",
        history.iter().map(|s| {
            format!(
                "{},{:.8},{:.8},{:.4},{},{:.4}",
                s.iter, s.rel_error, s.mean_rel_residual, s.mean_nnz, s.replaced, s.seconds
            )
        }),
    )
}
