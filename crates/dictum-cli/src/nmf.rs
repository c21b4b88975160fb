//! `dictum nmf`: non-negative matrix factorisation of a `.npy` (dense) or scipy `.npz`
//! (sparse CSC) matrix, in scikit-learn's orientation: `V` (samples x features) ≈ `W·H` with
//! `W` samples x rank and `H` rank x features.

use std::path::PathBuf;
use std::time::Instant;

use dictum::io::npy::{MappedNpy, MatrixLayout, write_matrix};
use dictum::learn::nmf::{Nmf, NmfData, NmfInit, NmfSolver};
use dictum::linalg::exec::Event;
use dictum::{CscMatrix, Learner, Mat};

use crate::encode::human;
use crate::error::Result;

/// NMF update rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum SolverArg {
    /// Accelerated HALS (coordinate descent), Frobenius loss.
    Hals,
    /// Multiplicative updates, Frobenius loss.
    Mu,
    /// Multiplicative updates, Kullback–Leibler divergence.
    Kl,
}

/// NMF initialisations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum InitArg {
    /// Non-negative double SVD.
    Nndsvd,
    /// NNDSVD with zeros filled by the mean.
    Nndsvda,
    /// Scaled |N(0,1)| entries.
    Random,
}

/// What `dictum nmf` was asked to do.
#[derive(Debug, clap::Args)]
pub(crate) struct NmfArgs {
    /// V: a .npy (samples x features, C order as numpy writes it) or a scipy sparse .npz (CSC
    /// or CSR; never densified).
    #[arg(long)]
    input: PathBuf,
    /// Number of components r.
    #[arg(long)]
    rank: usize,
    /// Update rule.
    #[arg(long, value_enum, default_value = "hals")]
    solver: SolverArg,
    /// Initialisation.
    #[arg(long, value_enum, default_value = "nndsvd")]
    init: InitArg,
    /// Penalty weight on W.
    #[arg(long, default_value_t = 0.0)]
    alpha_w: f64,
    /// Penalty weight on H.
    #[arg(long, default_value_t = 0.0)]
    alpha_h: f64,
    /// Share of l1 in the penalties.
    #[arg(long, default_value_t = 0.0)]
    l1_ratio: f64,
    /// Iterations at most.
    #[arg(long, default_value_t = 200)]
    iters: usize,
    /// Relative change of the objective at which to stop (0: run every iteration).
    #[arg(long, default_value_t = 1e-4)]
    tol: f64,
    /// Seed of the random initialisation.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Threads and device.
    #[command(flatten)]
    run: crate::exec::RunArgs,
    /// Output folder: W.npy (samples x r), H.npy (r x features), history.csv.
    #[arg(long)]
    out: PathBuf,
}

pub(crate) fn run(args: &NmfArgs) -> Result<()> {
    let nmf = Nmf::new(args.rank)
        .solver(match args.solver {
            SolverArg::Hals => NmfSolver::Hals,
            SolverArg::Mu => NmfSolver::MultiplicativeFrobenius,
            SolverArg::Kl => NmfSolver::MultiplicativeKl,
        })
        .init(match args.init {
            InitArg::Nndsvd => NmfInit::Nndsvd,
            InitArg::Nndsvda => NmfInit::Nndsvda,
            InitArg::Random => NmfInit::Random,
        })
        .alpha_w(args.alpha_w)
        .alpha_h(args.alpha_h)
        .l1_ratio(args.l1_ratio)
        .max_iter(args.iters)
        .tol(args.tol);
    crate::error::create_dir(&args.out)?;
    let sparse = args.input.extension().is_some_and(|e| e == "npz");
    let bar = crate::report::progress_bar(
        args.iters as u64,
        "{spinner} nmf [{bar:30}] iter {pos}/{len} {msg} ({eta} left)",
    );
    let show = |e: &Event<'_>| {
        if let Event::Iteration(s) = e {
            bar.set_position(s.iter as u64);
            bar.set_message(format!("rel. error {:.5}", s.rel_error));
        }
    };
    let start = Instant::now();
    let result = crate::exec::run(&args.run, args.seed, &show, |exec, _| {
        if sparse {
            // scipy's CSC matrix is samples x features as stored: W and H come out as is.
            let v: CscMatrix<f64> = dictum::io::sparse::load_csc(&args.input)?;
            let fit = nmf.fit(NmfData::Sparse(&v), exec)?;
            let shape = (v.nrows(), v.ncols());
            let history = fit.history;
            Ok((fit.model.w, fit.model.h, history, shape))
        } else {
            // A C-order samples x features .npy reads as its transpose (features x samples):
            // factorising that gives Hᵀ and Wᵀ, turned back here.
            let file = MappedNpy::open(&args.input)?;
            let mut owned = None;
            let v = crate::encode::matrix::<f64>(&file, &mut owned)?;
            let fit = nmf.fit(NmfData::Dense(v), exec)?;
            let w: Mat<f64> = fit.model.h.transpose().to_owned();
            let h: Mat<f64> = fit.model.w.transpose().to_owned();
            Ok((w, h, fit.history, (v.ncols(), v.nrows())))
        }
    });
    bar.finish_and_clear();
    let (w, h, history, shape) = result?;
    let elapsed = start.elapsed();
    write_matrix(args.out.join("W.npy"), w.as_ref(), MatrixLayout::Fortran)?;
    write_matrix(args.out.join("H.npy"), h.as_ref(), MatrixLayout::Fortran)?;
    crate::learn::write_history(&args.out.join("history.csv"), &history)?;
    let last = history.last();
    println!(
        "input         {} ({} x {}, {})",
        args.input.display(),
        shape.0,
        shape.1,
        if sparse { "sparse" } else { "dense" }
    );
    println!(
        "rank          {} ({:?}, init {:?})",
        args.rank, args.solver, args.init
    );
    println!("iterations    {}", last.map_or(0, |s| s.iter));
    if let Some(s) = last {
        println!("rel. error    {:.6}  (‖V − W·H‖_F / ‖V‖_F)", s.rel_error);
    }
    println!("wall time     {}", human(elapsed));
    println!(
        "outputs       {} (W.npy {} x {}, H.npy {} x {}, history.csv)",
        args.out.display(),
        w.nrows(),
        w.ncols(),
        h.nrows(),
        h.ncols()
    );
    Ok(())
}
