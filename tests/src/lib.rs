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

/// A 64-bit FNV-1a fingerprint of numbers' exact bits, for tests that pin outputs bit for bit.
#[derive(Debug, Clone, Copy)]
pub struct Fingerprint(u64);

impl Default for Fingerprint {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fingerprint {
    /// Folds in the bytes of `v`.
    pub fn word(&mut self, v: u64) -> &mut Self {
        for b in v.to_le_bytes() {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        self
    }

    /// Folds in every value's bits, as `f64`.
    pub fn values<T: Real>(&mut self, v: &[T]) -> &mut Self {
        for x in v {
            self.word(x.into_f64().to_bits());
        }
        self
    }

    /// Folds in a dense matrix: its shape, then its entries column by column.
    pub fn mat<T: Real>(&mut self, m: MatRef<'_, T>) -> &mut Self {
        self.word(m.nrows() as u64).word(m.ncols() as u64);
        for j in 0..m.ncols() {
            for i in 0..m.nrows() {
                self.word(m[(i, j)].into_f64().to_bits());
            }
        }
        self
    }

    /// Folds in a sparse matrix: shape, pattern and values.
    pub fn csc<T: Real>(&mut self, x: &dictum::CscMatrix<T>) -> &mut Self {
        self.word(x.nrows() as u64).word(x.ncols() as u64);
        for &p in x.col_ptr() {
            self.word(p as u64);
        }
        for &r in x.row_indices() {
            self.word(u64::from(r));
        }
        self.values(x.values())
    }

    /// The fingerprint so far.
    pub fn finish(&self) -> u64 {
        self.0
    }
}

/// The instruction sets the CPU kernels dispatch on (faer's GEMM and dictum's own SIMD paths):
/// pinned bit patterns hold only on the class of CPU they were recorded on.
pub fn cpu_class() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512vl")
            && std::is_x86_feature_detected!("avx512dq")
            && std::is_x86_feature_detected!("fma")
        {
            return "x86_64-avx512";
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            return "x86_64-avx2";
        }
        "x86_64"
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        std::env::consts::ARCH
    }
}
