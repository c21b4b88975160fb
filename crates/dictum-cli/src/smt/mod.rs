//! `dictum smt …`: fit the Sparse Manifold Transform on images, embed images, classify with
//! kNN, and the synthetic circle and disk experiments.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, Subcommand, ValueEnum};
use dictum::Mat;
use dictum::io::npy::{self, MatrixLayout};
use dictum::linalg::exec::{Event, Exec};
use dictum::smt::{Derivative, DictionaryKind, ImageSmt, Knn, MeanRemoval, stage};

use crate::error::Result;

use crate::encode::human;
use crate::report::progress_bar;

mod circle;
mod images;

pub(crate) use circle::CircleArgs;
use circle::circle;
pub(crate) use images::{ImagesArgs, image_shape};
use images::{bad, load_images, split};

/// The SMT subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum SmtCommand {
    /// Fit patches → whitening → dictionary → codes → embedding on images; writes the model.
    Fit(FitArgs),
    /// Pooled SMT features of images (.npy, images x features).
    Embed(EmbedArgs),
    /// kNN accuracy of SMT features against raw pixels, on a train and a test set.
    Knn(KnnArgs),
    /// The unit circle (harmonics) and unit disk experiments; writes PNGs.
    Circle(CircleArgs),
}

/// Dictionary kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DictArg {
    /// Spherical k-means centres (the ICLR 2023 paper).
    Spherical,
    /// Euclidean k-means centres, normalized.
    Kmeans,
    /// Data patches accepted while unlike the atoms so far (--dict-threshold).
    Greedy,
}

/// Derivative orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DerivArg {
    /// Differences of neighbouring patches.
    First,
    /// Each patch against the mean of its neighbours.
    Second,
}

/// `smt fit`.
#[derive(Debug, Args)]
pub(crate) struct FitArgs {
    #[command(flatten)]
    images: ImagesArgs,
    /// Patch side.
    #[arg(long, default_value_t = 6)]
    patch: usize,
    /// Dictionary atoms.
    #[arg(long, default_value_t = 1024)]
    atoms: usize,
    /// Embedding dimensions.
    #[arg(long, default_value_t = 16)]
    dims: usize,
    /// Cosine threshold of the general sparse codes.
    #[arg(long, default_value_t = 0.3)]
    threshold: f64,
    /// Keep at most this many active atoms per patch (the most similar); the sums cost
    /// grows with its square.
    #[arg(long)]
    max_active: Option<usize>,
    /// Codes of the cosine similarity instead of 1.
    #[arg(long)]
    valued: bool,
    /// Use these atoms (.npy, atoms x patch pixels as numpy writes it) instead of learning.
    #[arg(long)]
    dict_file: Option<PathBuf>,
    /// How the dictionary is built.
    #[arg(long, value_enum, default_value = "spherical")]
    dictionary: DictArg,
    /// Greedy dictionary: largest cosine similarity between atoms.
    #[arg(long, default_value_t = 0.35)]
    dict_threshold: f64,
    /// k-means iterations.
    #[arg(long, default_value_t = 10)]
    kmeans_iters: usize,
    /// ZCA regularizer.
    #[arg(long, default_value_t = 1e-3)]
    whiten_tol: f64,
    /// Skip whitening.
    #[arg(long)]
    no_whiten: bool,
    /// Remove the mean of a CxC window around each patch instead of the patch's own mean.
    #[arg(long)]
    context: Option<usize>,
    /// Derivative order of the spatial operator.
    #[arg(long, value_enum, default_value = "second")]
    derivative: DerivArg,
    /// Neighbourhood radius in patch-grid steps.
    #[arg(long, default_value_t = 1)]
    radius: usize,
    /// Smallest directions dropped.
    #[arg(long, default_value_t = 1)]
    drop: usize,
    /// Pooling regions per side.
    #[arg(long, default_value_t = 2)]
    pool: usize,
    /// Patches sampled for whitening and the dictionary.
    #[arg(long, default_value_t = 100_000)]
    sample: usize,
    /// Images coded per chunk.
    #[arg(long, default_value_t = 256)]
    chunk: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Threads and device.
    #[command(flatten)]
    run: crate::exec::RunArgs,
    /// Output folder: smt.npz (or smt.h5 with --h5) and atoms.png.
    #[arg(long)]
    out: PathBuf,
    /// Write the model as HDF5 (hdf5 feature).
    #[arg(long)]
    h5: bool,
}

/// `smt embed`.
#[derive(Debug, Args)]
pub(crate) struct EmbedArgs {
    /// The model folder (or file) from `smt fit`.
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    images: ImagesArgs,
    /// Threads and device.
    #[command(flatten)]
    run: crate::exec::RunArgs,
    /// Features, .npy of images x features.
    #[arg(long)]
    out: PathBuf,
}

/// `smt knn`.
#[derive(Debug, Args)]
pub(crate) struct KnnArgs {
    /// The model folder (or file) from `smt fit`.
    #[arg(long)]
    model: PathBuf,
    /// Training images (.npy) — or use --data digits with --split.
    #[arg(long)]
    train: Option<PathBuf>,
    /// Training labels (.npy).
    #[arg(long)]
    train_labels: Option<PathBuf>,
    /// Test images (.npy).
    #[arg(long)]
    test: Option<PathBuf>,
    /// Test labels (.npy).
    #[arg(long)]
    test_labels: Option<PathBuf>,
    /// A bundled labelled dataset (`digits`), split by --split.
    #[arg(long)]
    data: Option<String>,
    /// Share of the bundled data used for training (the rest is tested), seeded.
    #[arg(long, default_value_t = 0.667)]
    split: f64,
    /// Image shape HxW for N x (H·W) files.
    #[arg(long)]
    shape: Option<String>,
    /// Neighbours.
    #[arg(long, default_value_t = 5)]
    k: usize,
    /// Soft-vote temperature.
    #[arg(long, default_value_t = 0.1)]
    temperature: f64,
    /// Seed of the split (fit with the same `--split` and `--split-seed` to hold the test
    /// images out of the model).
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Threads and device.
    #[command(flatten)]
    run: crate::exec::RunArgs,
}

pub(crate) fn run(cmd: &SmtCommand) -> Result<()> {
    match cmd {
        SmtCommand::Fit(a) => fit(a),
        SmtCommand::Embed(a) => embed(a),
        SmtCommand::Knn(a) => knn(a),
        SmtCommand::Circle(a) => circle(a),
    }
}

fn mkdir(p: &Path) -> Result<()> {
    crate::error::create_dir(p)
}

/// The model file of a folder from `smt fit` (or the path itself when it is a file).
fn model_path(p: &Path) -> PathBuf {
    if p.is_dir() {
        let h5 = p.join("smt.h5");
        if h5.exists() { h5 } else { p.join("smt.npz") }
    } else {
        p.to_path_buf()
    }
}

fn fit(a: &FitArgs) -> Result<()> {
    let img = a.images.load()?;
    let params =
        ImageSmt::new(img.height, img.width, a.patch, a.atoms, a.dims)
            .threshold(a.threshold)
            .max_active(a.max_active)
            .binary(!a.valued)
            .given_dictionary(match &a.dict_file {
                Some(p) => Some(npy::read(p)?.to_mat::<f32>().ok_or_else(|| {
                    bad("dict-file", p.display().to_string(), "a 2-D numeric .npy")
                })?),
                None => None,
            })
            .dictionary(match a.dictionary {
                DictArg::Spherical => DictionaryKind::KMeans {
                    spherical: true,
                    iters: a.kmeans_iters,
                },
                DictArg::Kmeans => DictionaryKind::KMeans {
                    spherical: false,
                    iters: a.kmeans_iters,
                },
                DictArg::Greedy => DictionaryKind::Greedy {
                    threshold: a.dict_threshold,
                },
            })
            .whiten_tol((!a.no_whiten).then_some(a.whiten_tol))
            .mean_removal(a.context.map_or(MeanRemoval::Patch, MeanRemoval::Context))
            .derivative(match a.derivative {
                DerivArg::First => Derivative::First,
                DerivArg::Second => Derivative::Second,
            })
            .radius(a.radius)
            .drop_first(a.drop)
            .pool(a.pool)
            .sample(a.sample)
            .chunk(a.chunk);
    mkdir(&a.out)?;
    let n = img.x.ncols() as u64;
    let bar = progress_bar(
        n,
        "{spinner} smt {msg} [{bar:30}] {pos}/{len} images ({eta} left)",
    );
    let start = Instant::now();
    // Off a terminal the bar is hidden: log the stages with their times instead.
    let log = !std::io::IsTerminal::is_terminal(&std::io::stderr());
    let last_tenth = std::sync::atomic::AtomicUsize::new(0);
    let show = |e: &Event<'_>| {
        let Event::Progress(p) = e else {
            return;
        };
        let t = start.elapsed().as_secs_f64();
        let what = match p.stage {
            stage::SAMPLING => "sampling patches",
            stage::DICTIONARY => "dictionary",
            stage::ACCUMULATING => {
                bar.set_position(p.done as u64);
                "coding + sums"
            }
            stage::SOLVING => "eigenproblem",
            _ => return,
        };
        bar.set_message(what);
        if log {
            if p.stage == stage::ACCUMULATING {
                let tenth = 10 * p.done / p.total.max(1);
                if tenth > last_tenth.swap(tenth, std::sync::atomic::Ordering::Relaxed) {
                    eprintln!("[{t:8.1} s] coded and summed {}/{} images", p.done, p.total);
                }
            } else {
                eprintln!("[{t:8.1} s] {what}");
            }
        }
    };
    let model = crate::exec::run(&a.run, a.seed, &show, |exec, _| {
        Ok(params.fit(img.x.as_ref(), exec)?)
    });
    bar.finish_and_clear();
    let model = model?;
    let file = a.out.join(if a.h5 { "smt.h5" } else { "smt.npz" });
    dictum::save_smt_model(&file, &model)?;
    let grid = crate::render::atom_grid(
        model
            .dictionary
            .as_ref()
            .subcols(0, model.dictionary.ncols().min(256)),
        a.patch,
        4,
    );
    dictum::io::png::write_rgb(&a.out.join("atoms.png"), &grid)?;
    println!(
        "images        {} ({}x{}), {}x{} patches",
        img.x.ncols(),
        img.height,
        img.width,
        a.patch,
        a.patch
    );
    println!(
        "dictionary    {} atoms ({:?})",
        model.dictionary.ncols(),
        a.dictionary
    );
    println!(
        "embedding     {} dims, eigenvalues {:.3e} … {:.3e}",
        model.embedding.dims(),
        model
            .embedding
            .eigenvalues
            .first()
            .copied()
            .unwrap_or(f64::NAN),
        model
            .embedding
            .eigenvalues
            .last()
            .copied()
            .unwrap_or(f64::NAN)
    );
    println!("wall time     {}", human(start.elapsed()));
    println!("model         {} (atoms.png beside it)", file.display());
    Ok(())
}

/// Runs `f` with a context whose progress bar follows the features being computed.
fn with_features_bar<R: Send>(
    how: &crate::exec::RunArgs,
    f: impl FnOnce(&Exec<'_>) -> Result<R> + Send,
) -> Result<R> {
    let bar = progress_bar(
        0,
        "{spinner} embedding [{bar:30}] {pos}/{len} images ({eta} left)",
    );
    let show = |e: &Event<'_>| {
        if let Event::Progress(p) = e
            && p.stage == stage::FEATURES
        {
            bar.set_length(p.total as u64);
            bar.set_position(p.done as u64);
        }
    };
    let out = crate::exec::run(how, 0, &show, |exec, _| f(exec));
    bar.finish_and_clear();
    out
}

fn embed(a: &EmbedArgs) -> Result<()> {
    let model = dictum::load_smt_model(model_path(&a.model))?;
    let img = a.images.load()?;
    let start = Instant::now();
    let f = with_features_bar(&a.run, |exec| Ok(model.features(img.x.as_ref(), exec)?))?;
    npy::write_matrix(&a.out, f.as_ref(), MatrixLayout::SamplesAsRows)?;
    println!(
        "features      {} images x {} → {} ({})",
        f.ncols(),
        f.nrows(),
        a.out.display(),
        human(start.elapsed())
    );
    Ok(())
}

fn labels(path: &Path) -> Result<Vec<usize>> {
    let v = npy::read(path)?
        .data
        .to_i64_vec()
        .ok_or_else(|| bad("labels", path.display().to_string(), "integer labels"))?;
    v.into_iter()
        .map(|l| usize::try_from(l).map_err(|_| bad("labels", l.to_string(), "labels ≥ 0")))
        .collect()
}

fn knn(a: &KnnArgs) -> Result<()> {
    let model = dictum::load_smt_model(model_path(&a.model))?;
    let (tr, ltr, te, lte) = if let Some(name) = &a.data {
        let all = ImagesArgs::bundled(name, a.seed).load()?;
        let (tr, te) = split(&all, a.split, a.seed);
        (
            tr.x,
            tr.labels.unwrap_or_default(),
            te.x,
            te.labels.unwrap_or_default(),
        )
    } else {
        let need = |p: &Option<PathBuf>, what: &'static str| {
            p.clone().ok_or_else(|| {
                bad(
                    what,
                    "missing".into(),
                    "pass --train, --train-labels, --test, --test-labels, or --data digits",
                )
            })
        };
        let tr = load_images(&need(&a.train, "train")?, a.shape.as_deref())?;
        let te = load_images(&need(&a.test, "test")?, a.shape.as_deref())?;
        (
            tr.x,
            labels(&need(&a.train_labels, "train-labels")?)?,
            te.x,
            labels(&need(&a.test_labels, "test-labels")?)?,
        )
    };
    let knn = Knn::new(a.k, a.temperature);
    let start = Instant::now();
    let (smt, raw) = with_features_bar(&a.run, |exec| {
        let ftr = model.features(tr.as_ref(), exec)?;
        let fte = model.features(te.as_ref(), exec)?;
        let smt = knn.evaluate(ftr.as_ref(), &ltr, fte.as_ref(), &lte, exec)?;
        let to64 =
            |m: &Mat<f32>| Mat::<f64>::from_fn(m.nrows(), m.ncols(), |i, j| f64::from(m[(i, j)]));
        let raw = knn.evaluate(to64(&tr).as_ref(), &ltr, to64(&te).as_ref(), &lte, exec)?;
        Ok((smt, raw))
    })?;
    println!("train / test  {} / {} images", tr.ncols(), te.ncols());
    println!(
        "kNN           k = {}, temperature {} (cosine, soft votes)",
        a.k, a.temperature
    );
    println!("SMT features  top-1 {:.4}  top-5 {:.4}", smt.top1, smt.top5);
    println!("raw pixels    top-1 {:.4}  top-5 {:.4}", raw.top1, raw.top5);
    println!("wall time     {}", human(start.elapsed()));
    Ok(())
}
