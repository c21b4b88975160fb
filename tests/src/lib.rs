//! Helpers shared by dictum's integration tests: fixture paths, seeded random matrices and
//! slow, obviously-correct reference kernels that the fast paths are checked against.

use std::path::PathBuf;

use dictum::{Mat, MatRef, Real};

/// Folder of the committed `.npy`/`.npz` fixtures (made by `fixtures/make_fixtures.py`).
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// The project's shared data folder (`../shared/data` beside the checkout), when present.
pub fn shared_data(name: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(name);
    p.exists().then_some(p)
}

/// A seeded uniform(-1, 1) stream (SplitMix64), so failures reproduce exactly.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A stream from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// Next value in [-1, 1).
    pub fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    /// An `nrows x ncols` matrix of uniform(-1, 1) entries.
    pub fn mat<T: Real>(&mut self, nrows: usize, ncols: usize) -> Mat<T> {
        Mat::from_fn(nrows, ncols, |_, _| T::cast_f64(self.uniform()))
    }
}

/// `Aᵀ·B` by triple loop in `f64`: the reference for GEMM tests.
pub fn naive_tn<T: Real>(a: MatRef<'_, T>, b: MatRef<'_, T>) -> Mat<f64> {
    Mat::from_fn(a.ncols(), b.ncols(), |i, j| {
        (0..a.nrows())
            .map(|k| a[(k, i)].into_f64() * b[(k, j)].into_f64())
            .sum()
    })
}

/// `A·B` by triple loop in `f64`.
pub fn naive_nn<T: Real>(a: MatRef<'_, T>, b: MatRef<'_, T>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), b.ncols(), |i, j| {
        (0..a.ncols())
            .map(|k| a[(i, k)].into_f64() * b[(k, j)].into_f64())
            .sum()
    })
}

/// Largest absolute entry-wise difference, in `f64`.
pub fn max_abs_diff<T: Real>(a: MatRef<'_, T>, b: MatRef<'_, f64>) -> f64 {
    assert_eq!(
        (a.nrows(), a.ncols()),
        (b.nrows(), b.ncols()),
        "shapes differ"
    );
    let mut m = 0.0f64;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            m = m.max((a[(i, j)].into_f64() - b[(i, j)]).abs());
        }
    }
    m
}

/// `true` when `python3 -c "import <modules>"` works: interop tests skip (with a message)
/// otherwise.
pub fn python_has(modules: &str) -> bool {
    std::process::Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}
