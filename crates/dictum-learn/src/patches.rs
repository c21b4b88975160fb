//! Square patches of grayscale images as signal columns, and the overlap-averaging that puts
//! processed patches back into an image (the patch model of Elad & Aharon 2006; also the
//! first stage of the Sparse Manifold Transform).
//!
//! Images are row-major `height x width` slices. A `p x p` patch becomes a column of length
//! `p²` in row-major order: entry `r·p + c` is pixel `(r, c)` of the patch, as the bundled
//! `patches8` data and scikit-learn's `extract_patches_2d` flatten them.

use dictum_linalg::{Mat, MatRef, Real};

use crate::error::{LearnError, Result, invalid};

/// Where the patches of an image lie: every `stride`-th position, plus the last row and
/// column of positions, so that every pixel is covered when `stride ≤ size`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchGrid {
    height: usize,
    width: usize,
    size: usize,
    rows: Vec<usize>,
    cols: Vec<usize>,
}

fn starts(len: usize, size: usize, stride: usize) -> Vec<usize> {
    let last = len - size;
    let mut v: Vec<usize> = (0..=last).step_by(stride).collect();
    if v.last() != Some(&last) {
        v.push(last);
    }
    v
}

impl PatchGrid {
    /// The grid of `size x size` patches of a `height x width` image, `stride` pixels apart.
    pub fn new(height: usize, width: usize, size: usize, stride: usize) -> Result<Self> {
        if size == 0 || stride == 0 {
            return Err(invalid(
                "patches",
                if size == 0 { "size" } else { "stride" },
                0,
                "patch size and stride are at least 1",
            ));
        }
        if size > height || size > width {
            return Err(LearnError::ShapeMismatch {
                method: "patches",
                what: "image",
                expected: format!("at least {size} x {size} for {size} x {size} patches"),
                found: format!("{height} x {width}"),
            });
        }
        Ok(Self {
            height,
            width,
            size,
            rows: starts(height, size, stride),
            cols: starts(width, size, stride),
        })
    }

    /// Patches in the grid.
    pub fn count(&self) -> usize {
        self.rows.len() * self.cols.len()
    }

    /// Patch side `p`; signals have `p²` entries.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Top-left corner `(row, col)` of patch `i` (row of positions first).
    pub fn corner(&self, i: usize) -> (usize, usize) {
        (
            self.rows[i / self.cols.len()],
            self.cols[i % self.cols.len()],
        )
    }

    fn check_image<T>(&self, pixels: &[T]) -> Result<()> {
        if pixels.len() != self.height * self.width {
            return Err(LearnError::ShapeMismatch {
                method: "patches",
                what: "image pixels",
                expected: format!(
                    "{} x {} = {}",
                    self.height,
                    self.width,
                    self.height * self.width
                ),
                found: pixels.len().to_string(),
            });
        }
        Ok(())
    }

    /// All patches of the image as columns: `p² x count`.
    pub fn extract<T: Real>(&self, pixels: &[T]) -> Result<Mat<T>> {
        self.check_image(pixels)?;
        let p = self.size;
        Ok(Mat::from_fn(p * p, self.count(), |k, i| {
            let (r, c) = self.corner(i);
            pixels[(r + k / p) * self.width + c + k % p]
        }))
    }

    /// Puts patches (columns, in grid order) back into an image, averaging where they
    /// overlap; pixels no patch covers (only when `stride > size`) are 0. With
    /// `base = Some((image, λ))` the image also enters the average with weight
    /// `λ` per pixel (Elad & Aharon's `λ·y` term, which pulls the result toward the input).
    pub fn average<T: Real>(
        &self,
        patches: MatRef<'_, T>,
        base: Option<(&[T], T)>,
    ) -> Result<Vec<T>> {
        let p = self.size;
        if patches.nrows() != p * p || patches.ncols() != self.count() {
            return Err(LearnError::ShapeMismatch {
                method: "patches",
                what: "patches to average",
                expected: format!("{} x {}", p * p, self.count()),
                found: format!("{} x {}", patches.nrows(), patches.ncols()),
            });
        }
        let n = self.height * self.width;
        let (mut sum, mut weight) = (vec![T::zero(); n], vec![T::zero(); n]);
        if let Some((img, lambda)) = base {
            self.check_image(img)?;
            for (i, &v) in img.iter().enumerate() {
                sum[i] = lambda * v;
                weight[i] = lambda;
            }
        }
        for i in 0..self.count() {
            let (r, c) = self.corner(i);
            let col = patches.col(i);
            for k in 0..p * p {
                let at = (r + k / p) * self.width + c + k % p;
                sum[at] += col[k];
                weight[at] += T::one();
            }
        }
        Ok(sum
            .iter()
            .zip(&weight)
            .map(|(&s, &w)| if w > T::zero() { s / w } else { T::zero() })
            .collect())
    }
}

/// An overcomplete separable 2-D DCT dictionary for `p x p` patches with `n_atoms` atoms
/// (`q = ⌈√n_atoms⌉` cosine frequencies per axis, the first `n_atoms` of the `q²` products,
/// lowest frequencies first), unit-norm columns: the initial dictionary of Elad & Aharon.
pub fn overcomplete_dct(p: usize, n_atoms: usize) -> Mat<f64> {
    let q = (n_atoms as f64).sqrt().ceil() as usize;
    let q = q.max(1);
    let mut one = Mat::<f64>::zeros(p, q);
    for k in 0..q {
        for i in 0..p {
            one[(i, k)] = (std::f64::consts::PI * i as f64 * k as f64 / q as f64).cos();
        }
        if k > 0 {
            let mean = (0..p).map(|i| one[(i, k)]).sum::<f64>() / p as f64;
            for i in 0..p {
                one[(i, k)] -= mean;
            }
        }
    }
    let mut order: Vec<(usize, usize)> = (0..q).flat_map(|a| (0..q).map(move |b| (a, b))).collect();
    order.sort_by_key(|&(a, b)| (a + b, a));
    let mut d = Mat::<f64>::zeros(p * p, n_atoms);
    for (col, &(a, b)) in order.iter().take(n_atoms).enumerate() {
        for r in 0..p {
            for c in 0..p {
                d[(r * p + c, col)] = one[(r, a)] * one[(c, b)];
            }
        }
        let nrm = d.col(col).norm_l2();
        for k in 0..p * p {
            d[(k, col)] /= nrm;
        }
    }
    d
}
