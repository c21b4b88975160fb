//! The `dictum` command-line tool.

mod coder;
mod demo;
mod devices;
mod encode;
mod error;
mod exec;
mod inspect;
mod learn;
mod nmf;
mod npeff;
mod render;
mod report;
mod smt;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Sparse representations: sparse coding, dictionary learning, NMF and the Sparse Manifold
/// Transform.
#[derive(Debug, Parser)]
#[command(name = "dictum", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print shape, dtype, order and min/max/mean/NaN count of arrays in .npy, .npz and
    /// .h5 files, or of a bundled dataset (see `dictum datasets`).
    Inspect {
        /// Files or bundled dataset names.
        #[arg(required = true)]
        targets: Vec<String>,
        /// Only this member of an .npz archive or dataset of an HDF5 file.
        #[arg(long)]
        member: Option<String>,
    },
    /// List the datasets bundled in the binary.
    Datasets,
    /// List the GPU adapters (`--device gpu:N`), with their limits and features.
    Devices,
    /// Denoise the bundled noisy photograph with a dictionary learned by K-SVD on its own
    /// patches; prints PSNR before and after and writes pictures. Start here.
    Demo(demo::DemoArgs),
    /// Learn a dictionary (K-SVD, approximate or batched K-SVD, MOD) from signals in a .npy
    /// file; writes D.npy, X.npz, history.csv, loss.png and atoms.png.
    Learn(learn::LearnArgs),
    /// Non-negative matrix factorisation V ≈ W·H of a .npy (dense) or scipy .npz (sparse)
    /// matrix; writes W.npy, H.npy and history.csv.
    Nmf(nmf::NmfArgs),
    /// NPEFF: per-example Fisher factorization of a classifier, from training it to
    /// reading its components (train-model, pefs, dsf, filter, d-npeff, lrm-npeff,
    /// fit-coeffs, expand, sparsify, perturb, top-examples).
    #[command(subcommand)]
    Npeff(npeff::NpeffCommand),
    /// The Sparse Manifold Transform: fit on images, embed, kNN, and the circle/disk
    /// experiments (fit, embed, knn, circle).
    #[command(subcommand)]
    Smt(smt::SmtCommand),
    /// Sparse-code signals over a dictionary and write the codes (scipy CSC .npz); prints N,
    /// mean non-zeros, relative error ‖Y − D·X‖_F/‖Y‖_F and wall time.
    Encode(encode::EncodeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    exec::install_interrupt();
    let result: error::Result<()> = match cli.command {
        Command::Inspect { targets, member } => targets
            .iter()
            .try_for_each(|t| inspect::inspect(t, member.as_deref())),
        Command::Encode(args) => encode::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Learn(args) => learn::run(&args),
        Command::Nmf(args) => nmf::run(&args),
        Command::Npeff(cmd) => npeff::run(&cmd),
        Command::Smt(cmd) => smt::run(&cmd),
        Command::Devices => devices::run(),
        Command::Datasets => {
            for d in dictum::datasets::DATASETS {
                println!("{:<22} {}", d.name, d.description);
            }
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_interrupted() => {
            eprintln!("interrupted: stopped before writing any output");
            ExitCode::from(130)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
