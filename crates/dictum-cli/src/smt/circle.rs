//! `dictum smt circle`: the synthetic circle and disk experiments.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use dictum::Mat;
use dictum::linalg::exec::Exec;
use dictum::smt::manifold::{
    canonical_correlations, circle_codes, circle_trajectory, disk_atoms, disk_codes,
    disk_trajectory,
};
use dictum::smt::{Covariances, Derivative, DifferentialOperator, SmtEmbedding};

use crate::error::Result;

use crate::encode::human;

/// `smt circle`.
#[derive(Debug, Args)]
pub(crate) struct CircleArgs {
    /// Atoms around the circle.
    #[arg(long, default_value_t = 300)]
    atoms: usize,
    /// Embedding dimensions.
    #[arg(long, default_value_t = 21)]
    dims: usize,
    /// Points of the trajectory.
    #[arg(long, default_value_t = 20_000)]
    points: usize,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output folder: circle.png, disk.png.
    #[arg(long)]
    out: PathBuf,
}

pub(super) fn circle(a: &CircleArgs) -> Result<()> {
    crate::error::create_dir(&a.out)?;
    let start = Instant::now();
    // The circle: temporal second derivative, 2-sparse interpolating codes.
    let theta = circle_trajectory(a.points, 0.05, a.seed);
    let codes = circle_codes(&theta, a.atoms)?;
    let mut cov = Covariances::new(a.atoms)?;
    let op = DifferentialOperator::temporal(Derivative::Second);
    let exec = Exec::default();
    cov.add_groups(&codes, theta.len(), &op, &exec)?;
    let emb = SmtEmbedding::new(a.dims).fit_owned(cov, &exec)?;
    let beta = emb.transform(&codes, false)?;
    let n = theta.len();
    let mut panels = Vec::new();
    for k in 0..emb.dims().min(12) {
        panels.push(
            (0..n.min(4000))
                .map(|i| (theta[i], beta[(k, i)]))
                .collect::<Vec<_>>(),
        );
    }
    dictum::io::png::write_rgb(
        &a.out.join("circle.png"),
        &crate::render::scatter_panels(&panels, 4),
    )?;
    println!(
        "circle        {} points, {} atoms, {} dims",
        n,
        a.atoms,
        emb.dims()
    );
    for j in 1..=(emb.dims() / 2).min(10) {
        let x = Mat::<f64>::from_fn(n, 2, |i, k| beta[(2 * (j - 1) + k, i)]);
        let y = Mat::<f64>::from_fn(n, 2, |i, k| {
            let t = j as f64 * theta[i];
            if k == 0 { t.cos() } else { t.sin() }
        });
        let cc = canonical_correlations(&x, &y);
        println!(
            "  dims {:>2},{:>2} vs cos/sin {j}θ: canonical correlations {:.4} {:.4}",
            2 * j - 1,
            2 * j,
            cc.first().copied().unwrap_or(0.0),
            cc.get(1).copied().unwrap_or(0.0)
        );
    }
    // The disk: first derivative, Gaussian codes over a triangular grid of atoms.
    let pts = disk_trajectory(a.points, 0.05, a.seed + 1);
    let atoms = disk_atoms(0.12)?;
    let codes = disk_codes(&pts, &atoms, 4, 0.08)?;
    let mut cov = Covariances::new(atoms.ncols())?;
    cov.add_groups(
        &codes,
        pts.len(),
        &DifferentialOperator::temporal(Derivative::First),
        &exec,
    )?;
    let emb = SmtEmbedding::new(12).fit_owned(cov, &exec)?;
    let side = 64;
    let grid: Vec<[f64; 2]> = (0..side * side)
        .map(|k| {
            let (r, c) = (k / side, k % side);
            [
                -1.0 + 2.0 * (c as f64 + 0.5) / side as f64,
                1.0 - 2.0 * (r as f64 + 0.5) / side as f64,
            ]
        })
        .collect();
    let inside: Vec<usize> = (0..grid.len())
        .filter(|&k| grid[k][0].powi(2) + grid[k][1].powi(2) <= 1.0)
        .collect();
    let gcodes = disk_codes(
        &inside.iter().map(|&k| grid[k]).collect::<Vec<_>>(),
        &atoms,
        4,
        0.08,
    )?;
    let gb = emb.transform(&gcodes, false)?;
    let maps: Vec<Vec<f64>> = (0..emb.dims())
        .map(|d| {
            let mut m = vec![f64::NAN; side * side];
            for (j, &k) in inside.iter().enumerate() {
                m[k] = gb[(d, j)];
            }
            m
        })
        .collect();
    dictum::io::png::write_rgb(
        &a.out.join("disk.png"),
        &crate::render::heat_panels(&maps, side, 6),
    )?;
    println!(
        "disk          {} points, {} atoms, {} dims (disk.png)",
        pts.len(),
        atoms.ncols(),
        emb.dims()
    );
    println!("wall time     {}", human(start.elapsed()));
    println!("pictures      {} (circle.png, disk.png)", a.out.display());
    Ok(())
}
