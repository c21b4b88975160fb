//! Training the classifier and computing its PEFs: `train-model`, `pefs`, `dsf`, `filter`.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, ValueEnum};
use dictum::learn::npeff::{
    DiagonalDsf, DiagonalPefParams, LowRankPefParams, Pefs, TrainClassifier, dataset_fisher,
};
use dictum::linalg::exec::Event;
use dictum::npeff::NpeffFile;

use super::data::{DataArgs, first_n};
use crate::encode::human;
use crate::error::Result;
use crate::exec::RunArgs;
use crate::report::{progress_bar, write_csv};

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

pub(crate) fn train(a: &TrainArgs) -> Result<()> {
    let ex = a.data.load()?;
    let n_classes = ex.labels.iter().max().map_or(0, |&m| m + 1);
    let bar = progress_bar(
        a.epochs as u64,
        "{spinner} training [{bar:30}] epoch {pos}/{len} {msg} ({eta} left)",
    );
    let show = |e: &Event<'_>| {
        if let Event::Progress(p) = e
            && p.stage == "epochs"
        {
            bar.set_position(p.done as u64);
        }
    };
    let start = Instant::now();
    let trainer = TrainClassifier::new()
        .hidden(a.hidden)
        .epochs(a.epochs)
        .learning_rate(a.lr)
        .l2(a.l2)
        .batch_size(a.batch_size);
    let trained = crate::exec::run(&RunArgs::cpu(Some(1)), a.seed, &show, |exec, _| {
        Ok(trainer.fit(ex.x.as_ref(), &ex.labels, n_classes, exec)?)
    });
    bar.finish_and_clear();
    let (model, history) = trained?;
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

pub(crate) fn pefs(a: &PefsArgs) -> Result<()> {
    let model = dictum::npeff::load_classifier(&a.model)?;
    let ex = first_n(a.data.load()?, a.examples);
    let bar = progress_bar(0, "{spinner} computing PEFs of {msg} examples");
    bar.set_message(ex.labels.len().to_string());
    let start = Instant::now();
    let out = crate::exec::run(
        &RunArgs::cpu(a.threads),
        0,
        &crate::exec::quiet,
        |exec, _| {
            Ok(match a.kind {
                PefKind::Diagonal => Pefs::Diagonal(DiagonalPefParams::new(a.n_values).compute(
                    &model,
                    ex.x.as_ref(),
                    &ex.labels,
                    exec,
                )?),
                PefKind::LowRank => Pefs::LowRank(
                    LowRankPefParams::new(a.n_values)
                        .top_k_classes(a.top_k_classes)
                        .min_class_probability(a.min_class_probability)
                        .compute(&model, ex.x.as_ref(), &ex.labels, exec)?,
                ),
            })
        },
    );
    bar.finish_and_clear();
    let out = out?;
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

pub(crate) fn dsf(a: &DsfArgs) -> Result<()> {
    let model = dictum::npeff::load_classifier(&a.model)?;
    let ex = a.data.load()?;
    let f = crate::exec::run(
        &RunArgs::cpu(a.threads),
        0,
        &crate::exec::quiet,
        |exec, _| Ok(dataset_fisher(&model, ex.x.as_ref(), exec)?),
    )?;
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

pub(crate) fn filter(a: &FilterArgs) -> Result<()> {
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
