//! `dictum learn`: learn a dictionary from signals in a `.npy` file and write the dictionary,
//! codes, history and pictures to a folder.

use std::path::{Path, PathBuf};
use std::time::Instant;

use dictum::coding::{Encoder, Matryoshka, Method, Valid};
use dictum::io::dtype::DType;
use dictum::io::npy::{MappedNpy, MatrixLayout, write_matrix};
use dictum::io::npz::Compression;
use dictum::learn::dictionary::{
    Amortized, AtomUpdate, KMeans, Ksvd, Learned, Mod, Online, Supervised, TaskDriven, TaskLoss,
};
use dictum::linalg::exec::{Event, Exec};
use dictum::{IterationStats, Learner, Mat, MatRef, Real};

use crate::coder::{CoderArg, CoderFlags, DtypeArg};
use crate::encode::{human, matrix};
use crate::error::{CliError, Result};
use crate::render;
use crate::report::summary;

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
    /// Coding step: any `dictum encode --method`.
    #[arg(long, value_enum, default_value = "batch-omp")]
    coder: CoderArg,
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
    /// Threads and device.
    #[command(flatten)]
    run: crate::exec::RunArgs,
    /// Compute in f32 or f64 (default: the file's type).
    #[arg(long, value_enum)]
    dtype: Option<DtypeArg>,
    /// Output folder: D.npy, X.npz, history.csv, loss.png, atoms.png (square patches); W.npy
    /// and b.npy/c.npy for amortized and task-driven learning.
    #[arg(long)]
    out: PathBuf,
}

pub(crate) fn run(args: &LearnArgs) -> Result<()> {
    let file = MappedNpy::open(&args.signals)?;
    let use_f32 = args
        .dtype
        .map_or(file.header().dtype == DType::F32, |t| t == DtypeArg::F32);
    let needs_coder = !matches!(
        args.method,
        LearnMethod::Kmeans
            | LearnMethod::SphericalKmeans
            | LearnMethod::Amortized
            | LearnMethod::TaskDriven
    );
    if needs_coder && args.k.is_none() && args.tol.is_none() && args.lambda.is_none() {
        return Err(CliError::usage(
            "k",
            "unset",
            "give the coding step a target: --k K (non-zeros), --tol EPS or --lambda L",
        ));
    }
    // Learners with their own coding get a placeholder coder that is never run.
    let flags = CoderFlags {
        k: if needs_coder { args.k } else { Some(1) },
        tol: args.tol.filter(|_| needs_coder),
        lambda: args.lambda.filter(|_| needs_coder),
        ..CoderFlags::default()
    };
    let coder = args.coder.method(&flags)?.check()?;
    crate::error::create_dir(&args.out)?;
    let bar = crate::report::progress_bar(
        args.iters as u64,
        "{spinner} learning [{bar:30}] iter {pos}/{len} {msg} ({eta} left)",
    );
    let show = |e: &Event<'_>| {
        if let Event::Iteration(s) = e {
            bar.set_position(s.iter as u64);
            bar.set_message(format!("error {:.4}, nnz {:.2}", s.rel_error, s.mean_nnz));
        }
    };
    let result = crate::exec::run(&args.run, args.seed, &show, |exec, threads| {
        if use_f32 {
            fit::<f32>(args, &coder, &file, exec, threads)
        } else {
            fit::<f64>(args, &coder, &file, exec, threads)
        }
    });
    bar.finish_and_clear();
    print!("{}", result?);
    Ok(())
}

fn fit<T: Real>(
    args: &LearnArgs,
    coder: &Valid<Method>,
    file: &MappedNpy,
    exec: &Exec<'_>,
    threads: usize,
) -> Result<String>
where
    Valid<Method>: Encoder<T>,
{
    let mut owned = None;
    let y = matrix::<T>(file, &mut owned)?;
    let start = Instant::now();
    let mut out = String::new();
    if matches!(
        args.method,
        LearnMethod::Amortized | LearnMethod::TaskDriven
    ) {
        gradient_fit::<T>(args, y, exec, &mut out)?;
        summary!(
            out,
            "method        {:?} ({}, {threads} threads)",
            args.method,
            T::NAME
        );
        summary!(out, "signals       {} x {} (d x N)", y.nrows(), y.ncols());
        summary!(out, "wall time     {}", human(start.elapsed()));
        summary!(out, "outputs       {}", args.out.display());
        return Ok(out);
    }
    let learned: Learned<T> = match args.method {
        LearnMethod::Mod => {
            let mut m = Mod::new(args.atoms, coder.clone()).max_iter(args.iters);
            if let Some(b) = args.signals_per_iter {
                m = m.signals_per_iter(b);
            }
            m.fit(y, exec)?
        }
        LearnMethod::Kmeans | LearnMethod::SphericalKmeans => {
            let mut km = KMeans::new(args.atoms)
                .spherical(args.method == LearnMethod::SphericalKmeans)
                .max_iter(args.iters);
            if let Some(b) = args.signals_per_iter {
                km = km.batch_size(b);
            }
            km.fit_dictionary(y, exec)?
        }
        LearnMethod::Online => Online::new(args.atoms, coder.clone())
            .batch_size(args.batch_size)
            .max_iter(args.iters)
            .report_every((args.iters / 100).max(1))
            .fit(y, exec)?,
        _ if args.matryoshka => {
            let k = args.k.ok_or(CliError::usage(
                "k",
                "unset",
                "--matryoshka shares --k non-zeros among the groups",
            ))?;
            ksvd(args, Matryoshka::new(k).check()?, y, exec)?
        }
        _ => ksvd(args, coder.clone(), y, exec)?,
    };
    let elapsed = start.elapsed();
    write_outputs(&args.out, &learned)?;
    let last = learned.history.last();
    let coder_name = match args.method {
        LearnMethod::Kmeans | LearnMethod::SphericalKmeans => "nearest centre",
        _ if args.matryoshka => "matryoshka",
        _ => coder.params().name(),
    };
    summary!(
        out,
        "method        {:?} ({}, {threads} threads), coding {coder_name}",
        args.method,
        T::NAME
    );
    summary!(out, "signals       {} x {} (d x N)", y.nrows(), y.ncols());
    summary!(out, "atoms         {}", args.atoms);
    summary!(
        out,
        "iterations    {} (stopped: {})",
        last.map_or(0, |s| s.iter),
        learned.stop.name()
    );
    if let Some(s) = last {
        summary!(
            out,
            "rel. error    {:.6}  (‖Y − D·X‖_F / ‖Y‖_F)",
            s.rel_error
        );
        summary!(out, "mean nnz      {:.3}", s.mean_nnz);
    }
    summary!(out, "wall time     {}", human(elapsed));
    summary!(out, "outputs       {}", args.out.display());
    Ok(out)
}

fn ksvd<T: Real, E: Encoder<T>>(
    args: &LearnArgs,
    coder: E,
    y: MatRef<'_, T>,
    exec: &Exec<'_>,
) -> Result<Learned<T>> {
    let mut k = Ksvd::new(args.atoms, coder).max_iter(args.iters);
    if args.method == LearnMethod::ApproxKsvd {
        k = k.update(AtomUpdate::Approximate);
    }
    if args.method == LearnMethod::BatchedKsvd {
        k = k.atoms_per_batch(args.batch.max(2)).shuffle_atoms(true);
    }
    if let Some(b) = args.signals_per_iter {
        k = k.signals_per_iter(b);
    }
    Ok(k.fit(y, exec)?)
}

/// Amortized and task-driven learning: their models are more than a dictionary and codes.
fn gradient_fit<T: Real>(
    args: &LearnArgs,
    y: MatRef<'_, T>,
    exec: &Exec<'_>,
    summary: &mut String,
) -> Result<()> {
    let out = &args.out;
    let rows =
        |m: MatRef<'_, T>, name: &str| write_matrix(out.join(name), m, MatrixLayout::Fortran);
    let (dict, history) = if args.method == LearnMethod::Amortized {
        let mut a = Amortized::new(args.atoms)
            .epochs(args.iters)
            .batch_size(args.batch_size)
            .temperature(args.temperature);
        if let Some(lr) = args.learning_rate {
            a = a.learning_rate(lr);
        }
        let fit = a.fit(y, exec)?;
        rows(fit.model.weights.as_ref(), "W.npy")?;
        let b = Mat::from_fn(fit.model.bias.len(), 1, |i, _| fit.model.bias[i]);
        rows(b.as_ref(), "b.npy")?;
        (fit.model.dictionary, fit.history)
    } else {
        let path = args.targets.as_ref().ok_or(CliError::usage(
            "targets",
            "unset",
            "task-driven learning needs --targets T.npy",
        ))?;
        let tf = MappedNpy::open(path)?;
        let mut owned = None;
        let t = matrix::<T>(&tf, &mut owned)?;
        // A vector of N labels reads as 1 x N or N x 1: make it 1 x N.
        let t: Mat<T> = if t.ncols() == 1 && t.nrows() == y.ncols() {
            t.transpose().to_owned()
        } else {
            t.to_owned()
        };
        let lambda = args.lambda.ok_or(CliError::usage(
            "lambda",
            "unset",
            "task-driven codes need --lambda",
        ))?;
        let mut td = TaskDriven::new(args.atoms, lambda)
            .loss(match args.loss {
                LossArg::Squared => TaskLoss::Squared,
                LossArg::Logistic => TaskLoss::Logistic,
            })
            .epochs(args.iters)
            .batch_size(args.batch_size);
        if let Some(lr) = args.learning_rate {
            td = td.learning_rate(lr);
        }
        let data = Supervised {
            signals: y,
            targets: t.as_ref(),
        };
        let fit = td.fit(data, exec)?;
        rows(fit.model.weights.as_ref(), "W.npy")?;
        let c = Mat::from_fn(fit.model.bias.len(), 1, |i, _| fit.model.bias[i]);
        rows(c.as_ref(), "c.npy")?;
        if let (Some(first), Some(last)) = (fit.history.first(), fit.history.last()) {
            summary!(
                summary,
                "task loss     {:.6} -> {:.6} (first -> last epoch)",
                first.objective,
                last.objective
            );
        }
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
pub(crate) fn write_outputs<T: Real>(out: &Path, learned: &Learned<T>) -> Result<()> {
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

/// `history.csv`: one line per iteration, the same columns for every learner (an empty cell
/// where a learner does not measure it).
pub(crate) fn write_history(path: &Path, history: &[IterationStats]) -> Result<()> {
    crate::report::write_csv(
        path,
        "iter,objective,rel_error,mean_rel_residual,mean_nnz,replaced,seconds",
        history.iter().map(|s| {
            format!(
                "{},{:.8e},{:.8},{},{:.4},{},{:.4}",
                s.iter,
                s.objective,
                s.rel_error,
                s.mean_rel_residual
                    .map_or(String::new(), |r| format!("{r:.8}")),
                s.mean_nnz,
                s.replaced,
                s.seconds
            )
        }),
    )
}
