//! Reading the components: `perturb` (do they drive the model's predictions on their top
//! examples?) and `top-examples` (which examples are they about?).

use std::path::PathBuf;

use clap::Args;
use dictum::Mat;
use dictum::io::png::{Rgb, to_byte};
use dictum::learn::npeff::analysis::{PerturbationCheck, label_purity, top_examples};
use dictum::learn::npeff::{Decomposition, DiagonalDsf, Pefs, dataset_fisher};
use dictum::linalg::exec::Exec;
use dictum::npeff::NpeffFile;

use super::data::{DataArgs, Examples};
use crate::error::Result;
use crate::report::{progress_bar, write_csv};

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

pub(crate) fn perturb(a: &PerturbArgs) -> Result<()> {
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
        None => dataset_fisher(&model, ex.x.as_ref(), &Exec::default())?,
    };
    let comps: Vec<usize> = if a.components.is_empty() {
        (0..r).collect()
    } else {
        a.components.clone()
    };
    let check = PerturbationCheck::new()
        .n_baseline(a.baseline)
        .target_kl(a.target_kl)
        .lambda(a.lambda);
    let exec = Exec::default().with_seed(a.seed);
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
        let res = check.run(&model, ex.x.as_ref(), &ex.labels, &h, &dsf, &top, &exec)?;
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

pub(crate) fn top(a: &TopArgs) -> Result<()> {
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
    crate::error::create_dir(&a.out)?;
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
