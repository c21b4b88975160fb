//! SMT dictionaries: k-means or spherical k-means centres (the ICLR 2023 paper's 1-sparse
//! dictionary learning), or data patches accepted greedily while they are unlike the atoms
//! chosen so far (the unofficial implementation's default); atoms are unit-norm.

use dictum_learn::dictionary::KMeans;
use dictum_linalg::backend::Trans;
use dictum_linalg::exec::Exec;
use dictum_linalg::norms::normalize_columns;
use dictum_linalg::{Mat, MatRef, Real};

use crate::error::{Result, SmtError, invalid};

/// Candidates examined per GEMM when choosing patches greedily.
const BLOCK: usize = 512;

/// Up to `n_atoms` columns of `x` (normalized), visited in an order drawn from the context's
/// seed, each
/// accepted when its cosine similarity to every atom accepted before is `≤ threshold`.
/// Zero columns are skipped. Returns fewer atoms when the data run out.
pub fn greedy_patches<T: Real>(
    x: MatRef<'_, T>,
    n_atoms: usize,
    threshold: f64,
    exec: &Exec<'_>,
) -> Result<Mat<T>> {
    if n_atoms == 0 {
        return Err(invalid("atoms", 0, "at least 1"));
    }
    if !(threshold > -1.0 && threshold <= 1.0) {
        return Err(invalid(
            "dict_threshold",
            threshold,
            "a cosine similarity in (-1, 1]",
        ));
    }
    if x.ncols() == 0 || x.nrows() == 0 {
        return Err(SmtError::Empty { what: "patches" });
    }
    let d = x.nrows();
    let mut order: Vec<usize> = (0..x.ncols()).collect();
    let mut rng = dictum_learn::rng::Rng::new(exec.seed());
    rng.shuffle(&mut order);
    let mut atoms: Vec<Vec<T>> = Vec::with_capacity(n_atoms);
    let mut chosen = Mat::<T>::zeros(d, 0);
    for block in order.chunks(BLOCK) {
        if atoms.len() >= n_atoms {
            break;
        }
        let mut raw = Mat::<T>::from_fn(d, block.len(), |i, k| x[(i, block[k])]);
        let zero = exec.normalize_columns(raw.as_mut()).zero_columns;
        let cand: Vec<Vec<T>> = (0..block.len())
            .filter(|k| !zero.contains(k))
            .map(|k| raw.col(k).iter().copied().collect())
            .collect();
        if cand.is_empty() {
            continue;
        }
        let cm = Mat::<T>::from_fn(d, cand.len(), |i, j| cand[j][i]);
        // Similarity to the atoms of earlier blocks in one GEMM; within the block, to the
        // atoms accepted from it so far, one by one.
        let prior = if chosen.ncols() > 0 {
            Some(exec.product(chosen.as_ref(), Trans::Yes, cm.as_ref(), Trans::No)?)
        } else {
            None
        };
        let mut fresh: Vec<usize> = Vec::new();
        for (k, c) in cand.iter().enumerate() {
            if atoms.len() >= n_atoms {
                break;
            }
            let close_prior = prior
                .as_ref()
                .is_some_and(|p| p.col(k).iter().any(|&s| s.into_f64() > threshold));
            let close_fresh = fresh.iter().any(|&f| {
                let s: f64 = cand[f]
                    .iter()
                    .zip(c)
                    .map(|(a, b)| a.into_f64() * b.into_f64())
                    .sum();
                s > threshold
            });
            if !close_prior && !close_fresh {
                fresh.push(k);
                atoms.push(c.clone());
            }
        }
        chosen = Mat::from_fn(d, atoms.len(), |i, j| atoms[j][i]);
    }
    Ok(chosen)
}

/// `n_atoms` unit-norm k-means centres of the columns of `x` (spherical k-means with
/// `spherical`), `iters` Lloyd iterations at most, k-means++ seeding from the context's
/// seed.
pub fn kmeans_atoms<T: Real>(
    x: MatRef<'_, T>,
    n_atoms: usize,
    spherical: bool,
    iters: usize,
    exec: &Exec<'_>,
) -> Result<Mat<T>> {
    let learned = KMeans::new(n_atoms)
        .spherical(spherical)
        .max_iter(iters)
        .fit_dictionary(x, exec)?;
    Ok(learned.into_model().dictionary)
}

/// `dict` with unit-norm columns; zero columns are an error naming the atom.
pub fn normalized<T: Real>(dict: MatRef<'_, T>) -> Result<Mat<T>> {
    let mut out = dict.to_owned();
    if let Some(&j) = normalize_columns(out.as_mut()).zero_columns.first() {
        return Err(invalid(
            "dictionary",
            format!("atom {j}"),
            "every atom must be finite and non-zero",
        ));
    }
    Ok(out)
}
