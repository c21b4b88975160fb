//! `dictum npeff …`: the NPEFF workflow of the reference implementation's executables and
//! scripts, from training a classifier to reading its components.
//!
//! ```text
//! dictum npeff train-model --data digits --out model.npz
//! dictum npeff pefs --model model.npz --data digits --n-values 64 --out pefs.npz
//! dictum npeff d-npeff --pefs pefs.npz --components 20 --out decomp.npz
//! dictum npeff top-examples --decomp decomp.npz --data digits --out top/
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, Subcommand, ValueEnum};
use dictum::Mat;
use dictum::io::npeff::{
    DNpeffDecomposition, Decomposition, DiagonalDsf, LrmNpeffDecomposition, Pefs,
};
use dictum::io::npy::{self, MatrixLayout};
use dictum::io::png::{Rgb, to_byte};
use dictum::learn::nmf::{NmfSolver, NmfStats};
use dictum::learn::npeff::analysis::{PerturbationCheck, label_purity, top_examples};
use dictum::learn::npeff::{
    DNpeff, DiagonalPefParams, EpochStats, LowRankPefParams, LrmNpeff, LrmStats, SparsifyH,
    TrainClassifier, dataset_fisher, fit_coefficients, fit_lrm_coefficients, sparsify_h,
};

use crate::encode::human;
use crate::report::{progress_bar, write_csv};

/// The NPEFF subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum NpeffCommand {
    /// Train a classifier (logistic regression, or a tanh MLP with --hidden) and save it.
    TrainModel(TrainArgs),
    /// Per-example Fishers of a classifier on a dataset (diagonal or low-rank).
    Pefs(PefsArgs),
    /// Dataset-level Fisher diagonal (the mean diagonal PEF), for the perturbation check.
    Dsf(DsfArgs),
    /// Keep a subset of the examples of a PEF file (e.g. those the model got wrong).
    Filter(FilterArgs),
    /// D-NPEFF: NMF of diagonal PEFs.
    DNpeff(DNpeffArgs),
    /// LRM-NPEFF: rank-1 PSD components of low-rank PEFs.
    LrmNpeff(LrmArgs),
    /// Coefficients W of (new) PEFs with the components fixed; writes W.npy.
    FitCoeffs(FitCoeffsArgs),
    /// Add LRM-NPEFF components to a decomposition, its own components frozen.
    Expand(ExpandArgs),
    /// Store H of a D-NPEFF decomposition sparse, keeping its largest entries.
    Sparsify(SparsifyArgs),
    /// Perturb the model along components and compare the KL change of predictions on each
    /// component's top examples with random examples.
    Perturb(PerturbArgs),
    /// Top examples of every component: CSV and markdown tables of indices and labels, and a
    /// PNG collage for image data.
    TopExamples(TopArgs),
}

/// Where examples come from.
#[derive(Debug, Args)]
pub(crate) struct DataArgs {
    /// A bundled dataset (`digits`), instead of --inputs/--labels.
    #[arg(long, conflicts_with = "inputs")]
    data: Option<String>,
    /// Inputs, a .npy of examples x features (C order, as numpy writes it).
    #[arg(long, requires = "labels")]
    inputs: Option<PathBuf>,
    /// Integer labels, a .npy of length examples.
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Height x width of each input as an image (for collages), e.g. 8x8; digits are 8x8.
    #[arg(long)]
    image_shape: Option<String>,
}

struct Examples {
    /// `inputs x N`.
    x: Mat<f64>,
    labels: Vec<usize>,
    image: Option<(usize, usize)>,
}

impl DataArgs {
    fn load(&self) -> dictum::Result<Examples> {
        let bad = |value: String, hint: &'static str| dictum::learn::LearnError::InvalidParameter {
            method: "npeff",
            name: "data",
            value,
            hint,
        };
        let mut ex = match (&self.data, &self.inputs) {
            (Some(name), _) if name == "digits" => {
                let d = dictum::datasets::load_digits()?;
                Examples {
                    x: Mat::from_fn(d.images.nrows(), d.images.ncols(), |i, j| {
                        f64::from(d.images[(i, j)])
                    }),
                    labels: d.target.iter().map(|&t| t.max(0) as usize).collect(),
                    image: Some((8, 8)),
                }
            }
            (Some(name), _) => {
                return Err(bad(
                    name.clone(),
                    "the bundled dataset for NPEFF is `digits`; or pass --inputs and --labels",
                )
                .into());
            }
            (None, Some(inputs)) => {
                let x = npy::read(inputs)?.to_mat::<f64>().ok_or_else(|| {
                    bad(
                        inputs.display().to_string(),
                        "inputs must be a 2-D numeric .npy",
                    )
                })?;
                let labels_path = self.labels.as_ref().ok_or_else(|| {
                    bad(
                        "no --labels".into(),
                        "--inputs needs --labels (a .npy of class indices)",
                    )
                })?;
                let labels = npy::read(labels_path)?.data.to_i64_vec().ok_or_else(|| {
                    bad(labels_path.display().to_string(), "labels must be integers")
                })?;
                if labels.iter().any(|&l| l < 0) {
                    return Err(bad(
                        labels_path.display().to_string(),
                        "labels must be class indices ≥ 0",
                    )
                    .into());
                }
                Examples {
                    x,
                    labels: labels.iter().map(|&l| l as usize).collect(),
                    image: None,
                }
            }
            (None, None) => {
                return Err(bad(
                    "nothing".into(),
                    "pass --data digits, or --inputs X.npy --labels y.npy",
                )
                .into());
            }
        };
        if let Some(s) = &self.image_shape {
            ex.image =
                Some(crate::smt::image_shape(s).ok_or_else(|| {
                    bad(s.to_string(), "an image shape is HEIGHTxWIDTH, e.g. 8x8")
                })?);
        }
        Ok(ex)
    }
}

/// `train-model`.
#[derive(Debug, Args)]
pub(crate) struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Hidden units of a tanh MLP (default: logistic regression).
    #[arg(long)]
    hidden: Option<usize>,
    /// Passes over the data.
    #[arg(long, default_value_t = 60)]
    epochs: usize,
    /// Adam step size.
    #[arg(long, default_value_t = 0.02)]
    lr: f64,
    /// Weight of ½‖θ‖².
    #[arg(long, default_value_t = 1e-4)]
    l2: f64,
    /// Examples per step.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Model file (.npz, or .h5 with the hdf5 feature).
    #[arg(long)]
    out: PathBuf,
}

/// PEF kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PefKind {
    /// Diagonal PEFs (for D-NPEFF).
    Diagonal,
    /// Low-rank PEFs S·Sᵀ (for LRM-NPEFF).
    LowRank,
}

/// `pefs`.
#[derive(Debug, Args)]
pub(crate) struct PefsArgs {
    /// Model file from train-model.
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    /// Kind of PEF.
    #[arg(long, value_enum, default_value = "diagonal")]
    kind: PefKind,
    /// Entries kept per example.
    #[arg(long)]
    n_values: usize,
    /// Low-rank only: keep the k most likely classes of each example.
    #[arg(long)]
    top_k_classes: Option<usize>,
    /// Low-rank only: keep only classes at least this likely (the most likely always stays):
    /// a variable rank per example (LVRM-PEFs).
    #[arg(long)]
    min_class_probability: Option<f64>,
    /// Only the first N examples.
    #[arg(long)]
    examples: Option<usize>,
    /// Threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// PEF file: .h5 (reference layout, hdf5 feature) or .npz (same names).
    #[arg(long)]
    out: PathBuf,
}

/// `dsf`.
#[derive(Debug, Args)]
pub(crate) struct DsfArgs {
    /// Model file.
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    /// Threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Output (.h5 or .npz): data/fisher.
    #[arg(long)]
    out: PathBuf,
}

/// `filter`.
#[derive(Debug, Args)]
pub(crate) struct FilterArgs {
    /// PEF file.
    #[arg(long)]
    pefs: PathBuf,
    /// Keep examples whose predicted class is wrong.
    #[arg(long, conflicts_with = "correct")]
    incorrect: bool,
    /// Keep examples whose predicted class is right.
    #[arg(long)]
    correct: bool,
    /// Keep examples with these labels (comma-separated).
    #[arg(long, value_delimiter = ',')]
    labels: Vec<i32>,
    /// Then keep the first N.
    #[arg(long)]
    first: Option<usize>,
    /// Output PEF file; the kept indices go to OUT.indices.csv.
    #[arg(long)]
    out: PathBuf,
}

/// NMF solvers for D-NPEFF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DSolver {
    /// Multiplicative updates (the reference's).
    Mu,
    /// Accelerated HALS (faster per unit of accuracy).
    Hals,
}

/// `d-npeff`.
#[derive(Debug, Args)]
pub(crate) struct DNpeffArgs {
    /// Diagonal PEF file.
    #[arg(long)]
    pefs: PathBuf,
    /// Components.
    #[arg(long)]
    components: usize,
    /// Iterations.
    #[arg(long, default_value_t = 500)]
    iters: usize,
    /// Drop parameters with fewer non-zero entries over all examples.
    #[arg(long, default_value_t = 1)]
    min_nonzero: usize,
    /// L1 penalty on W.
    #[arg(long, default_value_t = 0.0)]
    l1_w: f64,
    /// Solver.
    #[arg(long, value_enum, default_value = "mu")]
    solver: DSolver,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Decomposition file (.h5 or .npz).
    #[arg(long)]
    out: PathBuf,
}

/// LRM-NPEFF options shared by `lrm-npeff` and `expand`.
#[derive(Debug, Args)]
pub(crate) struct LrmOptions {
    /// G-only iterations first.
    #[arg(long, default_value_t = 100)]
    iters_g_only: usize,
    /// Joint iterations.
    #[arg(long, default_value_t = 500)]
    iters_joint: usize,
    /// Initial step size of G (adapted so the loss never rises).
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Orthogonality penalty on the components.
    #[arg(long, default_value_t = 0.0)]
    ortho: f64,
    /// Drop parameters with fewer non-zero entries over all examples.
    #[arg(long, default_value_t = 1)]
    min_nonzero: usize,
    /// Iterations between two logged losses.
    #[arg(long, default_value_t = 10)]
    log_every: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

/// `lrm-npeff`.
#[derive(Debug, Args)]
pub(crate) struct LrmArgs {
    /// Low-rank PEF file (LRM or LVRM).
    #[arg(long)]
    pefs: PathBuf,
    /// Components.
    #[arg(long)]
    components: usize,
    #[command(flatten)]
    opts: LrmOptions,
    /// Decomposition file (.h5 or .npz).
    #[arg(long)]
    out: PathBuf,
}

/// `expand`.
#[derive(Debug, Args)]
pub(crate) struct ExpandArgs {
    /// The LRM-NPEFF decomposition to extend.
    #[arg(long)]
    decomp: PathBuf,
    /// Low-rank PEF file.
    #[arg(long)]
    pefs: PathBuf,
    /// New components.
    #[arg(long)]
    components: usize,
    #[command(flatten)]
    opts: LrmOptions,
    /// Decomposition file with old + new components.
    #[arg(long)]
    out: PathBuf,
}

/// `fit-coeffs`.
#[derive(Debug, Args)]
pub(crate) struct FitCoeffsArgs {
    /// A D-NPEFF or LRM-NPEFF decomposition.
    #[arg(long)]
    decomp: PathBuf,
    /// PEFs of the kind the decomposition factorized.
    #[arg(long)]
    pefs: PathBuf,
    /// Sweeps at most.
    #[arg(long, default_value_t = 500)]
    iters: usize,
    /// Threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// W as .npy (examples x components); or a decomposition file (.h5/.npz) holding the
    /// components and the new W.
    #[arg(long)]
    out: PathBuf,
}

/// `sparsify`.
#[derive(Debug, Args)]
pub(crate) struct SparsifyArgs {
    /// D-NPEFF decomposition.
    #[arg(long)]
    decomp: PathBuf,
    /// Keep at most this many entries per component.
    #[arg(long)]
    top_per_component: Option<usize>,
    /// Drop entries below this fraction of their component's largest.
    #[arg(long, default_value_t = 0.0)]
    min_relative: f64,
    /// Output decomposition with sparse H.
    #[arg(long)]
    out: PathBuf,
}

/// `perturb`.
#[derive(Debug, Args)]
pub(crate) struct PerturbArgs {
    /// Model file.
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    /// Decomposition whose rows of W are the examples of --data, in order.
    #[arg(long)]
    decomp: PathBuf,
    /// Dataset Fisher file (from `dsf`); computed on --data when absent.
    #[arg(long)]
    dsf: Option<PathBuf>,
    /// Components to check (comma-separated; default all).
    #[arg(long, value_delimiter = ',')]
    components: Vec<usize>,
    /// Top examples per component.
    #[arg(long, default_value_t = 16)]
    top: usize,
    /// Random baseline examples.
    #[arg(long, default_value_t = 256)]
    baseline: usize,
    /// Mean KL divergence to reach on the top examples.
    #[arg(long, default_value_t = 0.1)]
    target_kl: f64,
    /// Weight λ of the component against the dataset Fisher, in (0, 1): smaller moves the
    /// parameters only where the component dominates.
    #[arg(long, default_value_t = 0.5)]
    lambda: f64,
    /// Seed of the baseline sample.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// CSV of the results.
    #[arg(long)]
    out: PathBuf,
}

/// `top-examples`.
#[derive(Debug, Args)]
pub(crate) struct TopArgs {
    /// Decomposition.
    #[arg(long)]
    decomp: PathBuf,
    /// The examples (for labels and pictures); or give --pefs for labels only.
    #[command(flatten)]
    data: DataArgs,
    /// A PEF file whose labels to use (instead of --data).
    #[arg(long)]
    pefs: Option<PathBuf>,
    /// Top examples per component.
    #[arg(long, default_value_t = 16)]
    k: usize,
    /// Output folder: top_examples.csv, top_examples.md and (for images) collage.png.
    #[arg(long)]
    out: PathBuf,
}

pub(crate) fn run(cmd: &NpeffCommand) -> dictum::Result<()> {
    match cmd {
        NpeffCommand::TrainModel(a) => train(a),
        NpeffCommand::Pefs(a) => pefs(a),
        NpeffCommand::Dsf(a) => dsf(a),
        NpeffCommand::Filter(a) => filter(a),
        NpeffCommand::DNpeff(a) => d_npeff(a),
        NpeffCommand::LrmNpeff(a) => lrm_npeff(a),
        NpeffCommand::FitCoeffs(a) => fit_coeffs(a),
        NpeffCommand::Expand(a) => expand(a),
        NpeffCommand::Sparsify(a) => sparsify(a),
        NpeffCommand::Perturb(a) => perturb(a),
        NpeffCommand::TopExamples(a) => top(a),
    }
}

fn train(a: &TrainArgs) -> dictum::Result<()> {
    let ex = a.data.load()?;
    let n_classes = ex.labels.iter().max().map_or(0, |&m| m + 1);
    let bar = progress_bar(
        a.epochs as u64,
        "{spinner} training [{bar:30}] epoch {pos}/{len} {msg} ({eta} left)",
    );
    let report = |s: &EpochStats| {
        bar.set_position(s.epoch as u64);
        bar.set_message(format!("loss {:.4} acc {:.3}", s.loss, s.accuracy));
    };
    let start = Instant::now();
    let (model, history) = TrainClassifier::new()
        .hidden(a.hidden)
        .epochs(a.epochs)
        .learning_rate(a.lr)
        .l2(a.l2)
        .batch_size(a.batch_size)
        .seed(a.seed)
        .fit(ex.x.as_ref(), &ex.labels, n_classes, Some(&report))?;
    bar.finish_and_clear();
    let acc = model.accuracy(ex.x.as_ref(), &ex.labels)?;
    dictum::npeff::save_classifier(&a.out, &model)?;
    println!(
        "model         {} ({} inputs, {} classes, {} parameters)",
        match model.hidden() {
            None => "logistic regression".to_string(),
            Some(h) => format!("tanh MLP, {h} hidden"),
        },
        model.n_inputs(),
        model.n_classes(),
        model.n_parameters()
    );
    println!("examples      {}", ex.labels.len());
    println!(
        "final loss    {:.4}",
        history.last().map_or(f64::NAN, |s| s.loss)
    );
    println!("accuracy      {acc:.4} (training set)");
    println!("wall time     {}", human(start.elapsed()));
    println!("model file    {}", a.out.display());
    Ok(())
}

fn first_n(ex: Examples, n: Option<usize>) -> Examples {
    match n {
        Some(n) if n < ex.labels.len() => Examples {
            x: ex.x.as_ref().subcols(0, n).to_owned(),
            labels: ex.labels[..n].to_vec(),
            image: ex.image,
        },
        _ => ex,
    }
}

fn pefs(a: &PefsArgs) -> dictum::Result<()> {
    let model = dictum::npeff::load_classifier(&a.model)?;
    let ex = first_n(a.data.load()?, a.examples);
    let bar = progress_bar(0, "{spinner} computing PEFs of {msg} examples");
    bar.set_message(ex.labels.len().to_string());
    let start = Instant::now();
    let out = crate::pool::with_threads("npeff pefs", a.threads, |_, _| {
        Ok(match a.kind {
            PefKind::Diagonal => Pefs::Diagonal(DiagonalPefParams::new(a.n_values).compute(
                &model,
                ex.x.as_ref(),
                &ex.labels,
            )?),
            PefKind::LowRank => Pefs::LowRank(
                LowRankPefParams::new(a.n_values)
                    .top_k_classes(a.top_k_classes)
                    .min_class_probability(a.min_class_probability)
                    .compute(&model, ex.x.as_ref(), &ex.labels)?,
            ),
        })
    })?;
    bar.finish_and_clear();
    out.save(&a.out)?;
    println!("kind          {:?}", a.kind);
    println!(
        "examples      {} (model: {} parameters)",
        out.n_examples(),
        model.n_parameters()
    );
    println!("values        {} per example", a.n_values);
    println!("wall time     {}", human(start.elapsed()));
    println!("PEF file      {}", a.out.display());
    Ok(())
}

fn dsf(a: &DsfArgs) -> dictum::Result<()> {
    let model = dictum::npeff::load_classifier(&a.model)?;
    let ex = a.data.load()?;
    let f = crate::pool::with_threads("npeff dsf", a.threads, |_, _| {
        Ok(dataset_fisher(&model, ex.x.as_ref())?)
    })?;
    DiagonalDsf {
        fisher: f.iter().map(|&v| v as f32).collect(),
    }
    .save(&a.out)?;
    println!(
        "dataset Fisher of {} examples, {} parameters → {}",
        ex.labels.len(),
        f.len(),
        a.out.display()
    );
    Ok(())
}

fn filter(a: &FilterArgs) -> dictum::Result<()> {
    let pefs = Pefs::load(&a.pefs)?;
    let pred = pefs.predictions();
    let mut keep: Vec<usize> = (0..pefs.n_examples())
        .filter(|&i| {
            let right = pred.predicted(i) as i32 == pred.labels[i];
            (!a.incorrect || !right)
                && (!a.correct || right)
                && (a.labels.is_empty() || a.labels.contains(&pred.labels[i]))
        })
        .collect();
    if let Some(n) = a.first {
        keep.truncate(n);
    }
    pefs.subset(&keep).save(&a.out)?;
    let idx_path = PathBuf::from(format!("{}.indices.csv", a.out.display()));
    write_csv(&idx_path, "kept_index", keep.iter().map(|i| i.to_string()))?;
    println!(
        "kept {} of {} examples → {} (indices in {})",
        keep.len(),
        pefs.n_examples(),
        a.out.display(),
        idx_path.display()
    );
    Ok(())
}

fn d_npeff(a: &DNpeffArgs) -> dictum::Result<()> {
    let Pefs::Diagonal(pefs) = Pefs::load(&a.pefs)? else {
        return Err(wrong_kind(&a.pefs, "diagonal PEFs (data/fisher/values)"));
    };
    let params = DNpeff::new(a.components)
        .max_iter(a.iters)
        .min_nonzero_per_parameter(a.min_nonzero)
        .l1_w(a.l1_w)
        .solver(match a.solver {
            DSolver::Mu => NmfSolver::MultiplicativeFrobenius,
            DSolver::Hals => NmfSolver::Hals,
        })
        .seed(a.seed);
    let bar = progress_bar(
        a.iters as u64,
        "{spinner} d-npeff [{bar:30}] iter {pos}/{len} {msg} ({eta} left)",
    );
    let report = |s: &NmfStats| {
        bar.set_position(s.iter as u64);
        bar.set_message(format!("rel. error {:.5}", s.rel_error));
    };
    let start = Instant::now();
    let (decomp, history) = crate::pool::with_threads("npeff d-npeff", a.threads, |par, _| {
        Ok(params.fit(&pefs, par, Some(&report))?)
    })?;
    bar.finish_and_clear();
    decomp.save(&a.out)?;
    println!(
        "PEFs          {} examples, {} of {} parameters kept",
        pefs.n_examples(),
        decomp.n_features(),
        pefs.n_parameters
    );
    println!("components    {}", a.components);
    if let Some(s) = history.last() {
        println!(
            "rel. error    {:.6} after {} iterations",
            s.rel_error, s.iter
        );
    }
    println!("wall time     {}", human(start.elapsed()));
    println!("decomposition {}", a.out.display());
    Ok(())
}

fn lrm_params(components: usize, o: &LrmOptions) -> LrmNpeff {
    LrmNpeff::new(components)
        .n_iters_g_only(o.iters_g_only)
        .n_iters_joint(o.iters_joint)
        .learning_rate_g(o.lr)
        .orthogonal_regularization(o.ortho)
        .min_nonzero_per_parameter(o.min_nonzero)
        .log_loss_frequency(o.log_every)
        .seed(o.seed)
}

fn lrm_run(
    o: &LrmOptions,
    f: impl FnOnce(&(dyn Fn(&LrmStats) + Sync)) -> dictum::Result<LrmNpeffDecomposition> + Send,
) -> dictum::Result<LrmNpeffDecomposition> {
    let total = (o.iters_g_only + o.iters_joint) as u64;
    let bar = progress_bar(
        total,
        "{spinner} lrm-npeff [{bar:30}] iter {pos}/{len} {msg} ({eta} left)",
    );
    let g_only = o.iters_g_only;
    let report = |s: &LrmStats| {
        let at = if s.joint { g_only + s.iter } else { s.iter };
        bar.set_position(at as u64);
        bar.set_message(format!(
            "{} rel. loss {:.5}",
            if s.joint { "joint" } else { "G only" },
            s.rel_loss
        ));
    };
    let out = crate::pool::with_threads("npeff lrm-npeff", o.threads, |_, _| f(&report))?;
    bar.finish_and_clear();
    Ok(out)
}

fn lrm_npeff(a: &LrmArgs) -> dictum::Result<()> {
    let Pefs::LowRank(pefs) = Pefs::load(&a.pefs)? else {
        return Err(wrong_kind(&a.pefs, "low-rank PEFs (data/values)"));
    };
    let params = lrm_params(a.components, &a.opts);
    let start = Instant::now();
    let decomp = lrm_run(&a.opts, |report| Ok(params.fit(&pefs, Some(report))?))?;
    decomp.save(&a.out)?;
    report_lrm(&decomp, pefs.n_examples(), start);
    println!("decomposition {}", a.out.display());
    Ok(())
}

fn report_lrm(d: &LrmNpeffDecomposition, n: usize, start: Instant) {
    println!(
        "PEFs          {n} examples, {} of {} parameters kept",
        d.n_features(),
        d.n_parameters
    );
    println!("components    {}", d.n_components);
    if let Some(l) = d.losses_joint.last().or(d.losses_g_only.last()) {
        println!("loss          {l:.6e} (last logged)");
    }
    println!("wall time     {}", human(start.elapsed()));
}

fn expand(a: &ExpandArgs) -> dictum::Result<()> {
    let Decomposition::LowRank(base) = Decomposition::load(&a.decomp)? else {
        return Err(wrong_kind(&a.decomp, "an LRM-NPEFF decomposition (data/G)"));
    };
    let Pefs::LowRank(pefs) = Pefs::load(&a.pefs)? else {
        return Err(wrong_kind(&a.pefs, "low-rank PEFs (data/values)"));
    };
    let params = lrm_params(a.components, &a.opts);
    let start = Instant::now();
    let decomp = lrm_run(&a.opts, |report| {
        Ok(params.expand(&pefs, &base, Some(report))?)
    })?;
    decomp.save(&a.out)?;
    report_lrm(&decomp, pefs.n_examples(), start);
    println!(
        "expanded      {} frozen + {} new components → {}",
        base.n_components,
        a.components,
        a.out.display()
    );
    Ok(())
}

fn fit_coeffs(a: &FitCoeffsArgs) -> dictum::Result<()> {
    let decomp = Decomposition::load(&a.decomp)?;
    let pefs = Pefs::load(&a.pefs)?;
    let start = Instant::now();
    let (w, updated) = crate::pool::with_threads("npeff fit-coeffs", a.threads, |par, _| {
        Ok(match (&decomp, &pefs) {
            (Decomposition::Diagonal(d), Pefs::Diagonal(p)) => {
                let w = fit_coefficients(d, p, a.iters, par)?;
                let upd = Decomposition::Diagonal(DNpeffDecomposition {
                    w: w.clone(),
                    ..d.clone()
                });
                (w, upd)
            }
            (Decomposition::LowRank(d), Pefs::LowRank(p)) => {
                let w = fit_lrm_coefficients(d, p, a.iters)?;
                let upd = Decomposition::LowRank(LrmNpeffDecomposition {
                    w: w.clone(),
                    ..d.clone()
                });
                (w, upd)
            }
            _ => {
                return Err(wrong_kind(
                    &a.pefs,
                    "PEFs of the decomposition's kind (diagonal for D-NPEFF, low-rank for LRM-NPEFF)",
                ));
            }
        })
    })?;
    let r = decomp.n_components();
    let n = pefs.n_examples();
    if a.out.extension().is_some_and(|e| e == "npy") {
        let m = Mat::<f32>::from_fn(r, n, |j, i| w[i * r + j]);
        // Columns are examples: written one example per row, as numpy expects.
        npy::write_matrix(&a.out, m.as_ref(), MatrixLayout::SamplesAsRows)?;
    } else {
        updated.save(&a.out)?;
    }
    println!(
        "coefficients  {n} examples x {r} components → {} ({})",
        a.out.display(),
        human(start.elapsed())
    );
    Ok(())
}

fn sparsify(a: &SparsifyArgs) -> dictum::Result<()> {
    let Decomposition::Diagonal(d) = Decomposition::load(&a.decomp)? else {
        return Err(wrong_kind(&a.decomp, "a D-NPEFF decomposition (data/H)"));
    };
    let s = sparsify_h(
        &d,
        SparsifyH {
            top_per_component: a.top_per_component,
            min_relative: a.min_relative,
        },
    )?;
    s.save(&a.out)?;
    let nnz = match &s.h {
        dictum::io::npeff::HFactor::Sparse { values, .. } => values.len(),
        dictum::io::npeff::HFactor::Dense(v) => v.len(),
    };
    println!(
        "H             {} x {}, {nnz} entries kept → {}",
        s.n_components,
        s.n_features(),
        a.out.display()
    );
    Ok(())
}

fn perturb(a: &PerturbArgs) -> dictum::Result<()> {
    let model = dictum::npeff::load_classifier(&a.model)?;
    let ex = a.data.load()?;
    let decomp = Decomposition::load(&a.decomp)?;
    let r = decomp.n_components();
    let n = decomp.w().len() / r.max(1);
    if n != ex.labels.len() {
        return Err(dictum::learn::LearnError::ShapeMismatch {
            method: "npeff perturb",
            what: "examples (rows of W)",
            expected: n.to_string(),
            found: ex.labels.len().to_string(),
        }
        .into());
    }
    let dsf: Vec<f64> = match &a.dsf {
        Some(p) => DiagonalDsf::load(p)?
            .fisher
            .iter()
            .map(|&v| f64::from(v))
            .collect(),
        None => dataset_fisher(&model, ex.x.as_ref())?,
    };
    let comps: Vec<usize> = if a.components.is_empty() {
        (0..r).collect()
    } else {
        a.components.clone()
    };
    let check = PerturbationCheck::new()
        .n_baseline(a.baseline)
        .target_kl(a.target_kl)
        .lambda(a.lambda)
        .seed(a.seed);
    let bar = progress_bar(
        comps.len() as u64,
        "{spinner} perturbing [{bar:30}] component {pos}/{len} ({eta} left)",
    );
    let mut rows = Vec::new();
    println!("component  delta      kl_top    kl_random  ratio   acc_top  acc_random");
    for (k, &j) in comps.iter().enumerate() {
        bar.set_position(k as u64);
        let top = top_examples(decomp.w(), r, j, a.top);
        if top.is_empty() || j >= r {
            continue;
        }
        let h: Vec<f64> = decomp.importance(j).iter().map(|&v| f64::from(v)).collect();
        let res = check.run(&model, ex.x.as_ref(), &ex.labels, &h, &dsf, &top)?;
        bar.suspend(|| {
            println!(
                "{j:>9}  {:<9.3e}  {:<8.4}  {:<9.4}  {:<6.2}  {:<7.3}  {:.3}",
                res.delta,
                res.kl_top,
                res.kl_baseline,
                res.ratio,
                res.accuracy_top,
                res.accuracy_baseline
            )
        });
        rows.push(format!(
            "{j},{:.6e},{:.6e},{:.6e},{:.4},{:.4},{:.4}",
            res.delta,
            res.kl_top,
            res.kl_baseline,
            res.ratio,
            res.accuracy_top,
            res.accuracy_baseline
        ));
    }
    bar.finish_and_clear();
    write_csv(
        &a.out,
        "component,delta,kl_top,kl_random,ratio,accuracy_top,accuracy_random",
        rows.into_iter(),
    )?;
    println!("results       {}", a.out.display());
    Ok(())
}

fn top(a: &TopArgs) -> dictum::Result<()> {
    let decomp = Decomposition::load(&a.decomp)?;
    let (labels, images): (Vec<i32>, Option<Examples>) = match &a.pefs {
        Some(p) => (Pefs::load(p)?.predictions().labels.clone(), None),
        None => {
            let ex = a.data.load()?;
            (ex.labels.iter().map(|&l| l as i32).collect(), Some(ex))
        }
    };
    let r = decomp.n_components();
    let n = decomp.w().len() / r.max(1);
    if labels.len() != n {
        return Err(dictum::learn::LearnError::ShapeMismatch {
            method: "npeff top-examples",
            what: "examples (labels vs rows of W)",
            expected: n.to_string(),
            found: labels.len().to_string(),
        }
        .into());
    }
    std::fs::create_dir_all(&a.out).map_err(|e| dictum::io::IoError::Io {
        path: a.out.clone(),
        source: e,
    })?;
    let tops: Vec<Vec<usize>> = (0..r)
        .map(|j| top_examples(decomp.w(), r, j, a.k))
        .collect();
    let mut csv = Vec::new();
    let mut md = vec![
        "| component | majority label | purity | top examples (index:label) |".to_string(),
        "|---|---|---|---|".to_string(),
    ];
    let mut purities = Vec::new();
    for (j, t) in tops.iter().enumerate() {
        for (rank, &i) in t.iter().enumerate() {
            csv.push(format!(
                "{j},{rank},{i},{},{:.6e}",
                labels[i],
                decomp.w()[i * r + j]
            ));
        }
        let (maj, purity) = label_purity(t, &labels).unwrap_or((-1, 0.0));
        if !t.is_empty() {
            purities.push(purity);
        }
        md.push(format!(
            "| {j} | {maj} | {purity:.2} | {} |",
            t.iter()
                .map(|&i| format!("{i}:{}", labels[i]))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    write_csv(
        &a.out.join("top_examples.csv"),
        "component,rank,example,label,coefficient",
        csv.into_iter(),
    )?;
    dictum::io::atomic::write_atomic(&a.out.join("top_examples.md"), |w| {
        use std::io::Write;
        for line in &md {
            writeln!(w, "{line}").map_err(|e| dictum::io::IoError::Io {
                path: a.out.join("top_examples.md"),
                source: e,
            })?;
        }
        Ok(())
    })?;
    let mean = purities.iter().sum::<f64>() / purities.len().max(1) as f64;
    println!(
        "components    {r}, top {} examples each; mean label purity {mean:.3}",
        a.k
    );
    let mut wrote = vec!["top_examples.csv", "top_examples.md"];
    if let Some(Examples {
        x,
        image: Some((h, w)),
        ..
    }) = &images
        && h * w == x.nrows()
    {
        let img = collage(x, &tops, *h, *w, a.k);
        dictum::io::png::write_rgb(&a.out.join("collage.png"), &img)?;
        wrote.push("collage.png");
    }
    println!("outputs       {} ({})", a.out.display(), wrote.join(", "));
    Ok(())
}

/// One row per component: its top examples as images, each scaled to its own range.
fn collage(x: &Mat<f64>, tops: &[Vec<usize>], h: usize, w: usize, k: usize) -> Rgb {
    let scale = if h * w <= 256 { 4 } else { 2 };
    let (th, tw) = (h * scale + 2, w * scale + 2);
    let mut img = Rgb::new(k * tw + 2, tops.len() * th + 2, [255, 255, 255]);
    for (row, t) in tops.iter().enumerate() {
        for (col, &i) in t.iter().enumerate() {
            let px = x.col(i);
            let (lo, hi) = px
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                    (a.min(v), b.max(v))
                });
            let span = if hi > lo { hi - lo } else { 1.0 };
            for r in 0..h {
                for c in 0..w {
                    // Dark ink on white, as digits are drawn.
                    let b = to_byte(1.0 - (px[r * w + c] - lo) / span);
                    for dy in 0..scale {
                        for dx in 0..scale {
                            img.put(
                                2 + col * tw + c * scale + dx,
                                2 + row * th + r * scale + dy,
                                [b, b, b],
                            );
                        }
                    }
                }
            }
        }
    }
    img
}

fn wrong_kind(path: &Path, want: &str) -> dictum::Error {
    dictum::io::IoError::Layout {
        path: path.to_path_buf(),
        problem: format!("this command needs {want}"),
    }
    .into()
}
