//! Synthetic manifolds for checking the SMT: a point moving smoothly on the unit circle (a
//! 1-D manifold) or in the unit disk (2-D), with dictionaries of atoms tiling them. On the
//! circle the embedding recovers the circular harmonics `{cos jθ, sin jθ}` in pairs (Chen,
//! Paiton & Olshausen 2018, §4): the slowest functions of a point moving on a circle.

use dictum_linalg::{CscBuilder, CscMatrix, Mat};

use crate::error::{Result, invalid};

/// Seeded xorshift-style uniform numbers (dictum's generator).
fn rng(seed: u64) -> dictum_learn::rng::Rng {
    dictum_learn::rng::Rng::new(seed)
}

/// A trajectory on the unit circle: `n` angles, each step `speed·(0.5 + u)` radians with
/// `u` uniform in `[0, 1)`, from a random start.
pub fn circle_trajectory(n: usize, speed: f64, seed: u64) -> Vec<f64> {
    let mut r = rng(seed);
    let mut theta = std::f64::consts::TAU * r.uniform();
    (0..n)
        .map(|_| {
            let t = theta;
            theta = (theta + speed * (0.5 + r.uniform())).rem_euclid(std::f64::consts::TAU);
            t
        })
        .collect()
}

/// `m` atoms evenly around the unit circle, as a `2 x m` dictionary.
pub fn circle_atoms(m: usize) -> Mat<f64> {
    Mat::from_fn(2, m, |i, j| {
        let a = std::f64::consts::TAU * j as f64 / m as f64;
        if i == 0 { a.cos() } else { a.sin() }
    })
}

/// 2-sparse codes of angles over [`circle_atoms`]`(m)`: the two atoms around each angle,
/// weighted by linear interpolation (they sum to one).
pub fn circle_codes(theta: &[f64], m: usize) -> Result<CscMatrix<f64>> {
    if m < 3 {
        return Err(invalid("atoms", m, "at least 3 atoms around the circle"));
    }
    let mut b = CscBuilder::with_capacity(m, theta.len(), 2 * theta.len());
    for &t in theta {
        let pos = t.rem_euclid(std::f64::consts::TAU) / std::f64::consts::TAU * m as f64;
        let j = (pos.floor() as usize) % m;
        let frac = pos - pos.floor();
        let k = (j + 1) % m;
        let mut e = vec![(j, 1.0 - frac), (k, frac)];
        e.sort_by_key(|p| p.0);
        b.push_column(e.into_iter().filter(|p| p.1 > 0.0))?;
    }
    Ok(b.finish())
}

/// A trajectory in the unit disk: `n` points, each step `speed` long in a direction that
/// turns slowly (a random walk of the heading), reflected at the boundary.
pub fn disk_trajectory(n: usize, speed: f64, seed: u64) -> Vec<[f64; 2]> {
    let mut r = rng(seed);
    let (mut x, mut y) = (0.0f64, 0.0f64);
    let mut heading = std::f64::consts::TAU * r.uniform();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push([x, y]);
        heading += 0.5 * r.normal();
        let (nx, ny) = (x + speed * heading.cos(), y + speed * heading.sin());
        if nx * nx + ny * ny >= 1.0 {
            // Turn back towards the centre.
            heading += std::f64::consts::PI;
        } else {
            (x, y) = (nx, ny);
        }
    }
    out
}

/// Atoms on a triangular-ish grid covering the unit disk, `spacing` apart (`2 x m`).
pub fn disk_atoms(spacing: f64) -> Result<Mat<f64>> {
    if !(spacing > 0.0 && spacing < 1.0) {
        return Err(invalid("spacing", spacing, "a number in (0, 1)"));
    }
    let mut pts = Vec::new();
    let steps = (1.0 / spacing).ceil() as i64 + 1;
    for iy in -steps..=steps {
        let y = iy as f64 * spacing * 0.866;
        let shift = if iy % 2 == 0 { 0.0 } else { spacing / 2.0 };
        for ix in -steps..=steps {
            let x = ix as f64 * spacing + shift;
            if x * x + y * y <= 1.0 + 1e-9 {
                pts.push([x, y]);
            }
        }
    }
    Ok(Mat::from_fn(2, pts.len(), |i, j| pts[j][i]))
}

/// Codes of points over disk atoms: the `k` nearest atoms with Gaussian weights of width
/// `sigma`, normalized to sum to one.
pub fn disk_codes(
    points: &[[f64; 2]],
    atoms: &Mat<f64>,
    k: usize,
    sigma: f64,
) -> Result<CscMatrix<f64>> {
    if k == 0 || k > atoms.ncols() {
        return Err(invalid("k", k, "between 1 and the number of atoms"));
    }
    let m = atoms.ncols();
    let mut b = CscBuilder::with_capacity(m, points.len(), k * points.len());
    for p in points {
        let mut d: Vec<(usize, f64)> = (0..m)
            .map(|j| {
                let (dx, dy) = (atoms[(0, j)] - p[0], atoms[(1, j)] - p[1]);
                (j, dx * dx + dy * dy)
            })
            .collect();
        d.select_nth_unstable_by(k - 1, |a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        d.truncate(k);
        let w: Vec<f64> = d
            .iter()
            .map(|e| (-e.1 / (2.0 * sigma * sigma)).exp())
            .collect();
        let s: f64 = w.iter().sum::<f64>().max(f64::MIN_POSITIVE);
        let mut e: Vec<(usize, f64)> = d.iter().zip(&w).map(|(e, &w)| (e.0, w / s)).collect();
        e.sort_by_key(|p| p.0);
        b.push_column(e)?;
    }
    Ok(b.finish())
}

/// Canonical correlations between the columns of `x` (`n x a`) and `y` (`n x b`), largest
/// first (`min(a, b)` of them): the cosines of the principal angles between the centred
/// column spans.
pub fn canonical_correlations(x: &Mat<f64>, y: &Mat<f64>) -> Vec<f64> {
    let orth = |m: &Mat<f64>| -> Mat<f64> {
        let (n, c) = (m.nrows(), m.ncols());
        let mut q = Mat::<f64>::from_fn(n, c, |i, j| m[(i, j)]);
        for j in 0..c {
            let mean = q.col(j).iter().sum::<f64>() / n as f64;
            for i in 0..n {
                q[(i, j)] -= mean;
            }
        }
        // Modified Gram–Schmidt, twice for stability.
        for _ in 0..2 {
            for j in 0..c {
                for k in 0..j {
                    let d: f64 = (0..n).map(|i| q[(i, j)] * q[(i, k)]).sum();
                    for i in 0..n {
                        q[(i, j)] -= d * q[(i, k)];
                    }
                }
                let nrm = q.col(j).iter().map(|v| v * v).sum::<f64>().sqrt();
                if nrm > 0.0 {
                    for i in 0..n {
                        q[(i, j)] /= nrm;
                    }
                }
            }
        }
        q
    };
    let (qx, qy) = (orth(x), orth(y));
    let m = Mat::<f64>::from_fn(qx.ncols(), qy.ncols(), |a, b| {
        (0..qx.nrows()).map(|i| qx[(i, a)] * qy[(i, b)]).sum()
    });
    let s = dictum_linalg::svd::thin_svd(m.as_ref(), dictum_linalg::Par::Seq)
        .map(|s| s.s)
        .unwrap_or_default();
    s.into_iter().map(|v| v.clamp(0.0, 1.0)).collect()
}
