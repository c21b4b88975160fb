//! The factorizations and what is done with them: `d-npeff`, `lrm-npeff`, `expand`,
//! `fit-coeffs`, `sparsify`.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, ValueEnum};
use dictum::io::npy::{self, MatrixLayout};
use dictum::learn::nmf::NmfSolver;
use dictum::learn::npeff::{
    DNpeff, DNpeffDecomposition, Decomposition, HFactor, LrmNpeff, LrmNpeffDecomposition, Pefs,
    SparsifyH, fit_coefficients, fit_lrm_coefficients, sparsify_h,
};
use dictum::linalg::exec::{Event, Exec};
use dictum::npeff::NpeffFile;
use dictum::{Fit, Learner, Mat};

use super::data::wrong_kind;
use crate::encode::human;
use crate::error::Result;
use crate::report::progress_bar;

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
    /// Threads and device.
    #[command(flatten)]
    run: crate::exec::RunArgs,
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
    /// Threads and device.
    #[command(flatten)]
    run: crate::exec::RunArgs,
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
    /// Threads and device.
    #[command(flatten)]
    run: crate::exec::RunArgs,
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

pub(crate) fn d_npeff(a: &DNpeffArgs) -> Result<()> {
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
        });
    let bar = progress_bar(
        a.iters as u64,
        "{spinner} d-npeff [{bar:30}] iter {pos}/{len} {msg} ({eta} left)",
    );
    let show = |e: &Event<'_>| {
        if let Event::Iteration(s) = e {
            bar.set_position(s.iter as u64);
            bar.set_message(format!("rel. error {:.5}", s.rel_error));
        }
    };
    let start = Instant::now();
    let fit = crate::exec::run(
        &a.run,
        a.seed,
        &show,
        |exec, _| Ok(params.fit(&pefs, exec)?),
    );
    bar.finish_and_clear();
    let fit = fit?;
    let (decomp, history) = (&fit.model, &fit.history);
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
}

fn lrm_run(
    o: &LrmOptions,
    f: impl FnOnce(&Exec<'_>) -> Result<Fit<LrmNpeffDecomposition>> + Send,
) -> Result<LrmNpeffDecomposition> {
    let total = (o.iters_g_only + o.iters_joint) as u64;
    let bar = progress_bar(
        total,
        "{spinner} lrm-npeff [{bar:30}] iter {pos}/{len} {msg} ({eta} left)",
    );
    let g_only = o.iters_g_only;
    let show = |e: &Event<'_>| {
        if let Event::Iteration(s) = e {
            bar.set_position(s.iter as u64);
            bar.set_message(format!(
                "{} rel. loss {:.5}",
                if s.iter > g_only { "joint" } else { "G only" },
                s.rel_error * s.rel_error
            ));
        }
    };
    let out = crate::exec::run(&o.run, o.seed, &show, |exec, _| f(exec));
    bar.finish_and_clear();
    Ok(out?.into_model())
}

pub(crate) fn lrm_npeff(a: &LrmArgs) -> Result<()> {
    let Pefs::LowRank(pefs) = Pefs::load(&a.pefs)? else {
        return Err(wrong_kind(&a.pefs, "low-rank PEFs (data/values)"));
    };
    let params = lrm_params(a.components, &a.opts);
    let start = Instant::now();
    let decomp = lrm_run(&a.opts, |exec| Ok(params.fit(&pefs, exec)?))?;
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

pub(crate) fn expand(a: &ExpandArgs) -> Result<()> {
    let Decomposition::LowRank(base) = Decomposition::load(&a.decomp)? else {
        return Err(wrong_kind(&a.decomp, "an LRM-NPEFF decomposition (data/G)"));
    };
    let Pefs::LowRank(pefs) = Pefs::load(&a.pefs)? else {
        return Err(wrong_kind(&a.pefs, "low-rank PEFs (data/values)"));
    };
    let params = lrm_params(a.components, &a.opts);
    let start = Instant::now();
    let decomp = lrm_run(&a.opts, |exec| Ok(params.expand(&pefs, &base, exec)?))?;
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

pub(crate) fn fit_coeffs(a: &FitCoeffsArgs) -> Result<()> {
    let decomp = Decomposition::load(&a.decomp)?;
    let pefs = Pefs::load(&a.pefs)?;
    let start = Instant::now();
    let (w, updated) = crate::exec::run(&a.run, 0, &crate::exec::quiet, |exec, _| {
        Ok(match (&decomp, &pefs) {
            (Decomposition::Diagonal(d), Pefs::Diagonal(p)) => {
                let w = fit_coefficients(d, p, a.iters, exec)?;
                let upd = Decomposition::Diagonal(DNpeffDecomposition {
                    w: w.clone(),
                    ..d.clone()
                });
                (w, upd)
            }
            (Decomposition::LowRank(d), Pefs::LowRank(p)) => {
                let w = fit_lrm_coefficients(d, p, a.iters, exec)?;
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

pub(crate) fn sparsify(a: &SparsifyArgs) -> Result<()> {
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
        HFactor::Sparse { values, .. } => values.len(),
        HFactor::Dense(v) => v.len(),
    };
    println!(
        "H             {} x {}, {nnz} entries kept → {}",
        s.n_components,
        s.n_features(),
        a.out.display()
    );
    Ok(())
}
