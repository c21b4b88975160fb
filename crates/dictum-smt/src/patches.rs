//! Patches of images, one patch per column, with the mean of each patch's context removed.

use dictum_linalg::{Mat, Real};

use crate::error::{Result, SmtError, invalid};

/// What mean to subtract from each patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MeanRemoval {
    /// Keep the pixels as they are.
    None,
    /// Subtract the patch's own mean (its DC component).
    #[default]
    Patch,
    /// Subtract the mean of the `c x c` window centred on the patch (clipped to the image):
    /// local contrast, as the SMT papers' "context mean".
    Context(usize),
}

/// Extracts `p x p` patches at a stride from `height x width` images (row-major pixels).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchExtractor {
    height: usize,
    width: usize,
    patch: usize,
    stride: usize,
    mean: MeanRemoval,
}

impl PatchExtractor {
    /// `patch x patch` patches at stride 1 of `height x width` images, patch means removed.
    pub fn new(height: usize, width: usize, patch: usize) -> Result<Self> {
        if patch == 0 {
            return Err(invalid("patch", 0, "at least 1 pixel"));
        }
        if patch > height || patch > width {
            return Err(SmtError::PatchTooLarge {
                patch,
                height,
                width,
            });
        }
        Ok(Self {
            height,
            width,
            patch,
            stride: 1,
            mean: MeanRemoval::Patch,
        })
    }

    /// Step between patches.
    pub fn stride(mut self, s: usize) -> Result<Self> {
        if s == 0 {
            return Err(invalid("stride", 0, "at least 1"));
        }
        self.stride = s;
        Ok(self)
    }

    /// Which mean to remove.
    pub fn mean_removal(mut self, m: MeanRemoval) -> Result<Self> {
        if m == MeanRemoval::Context(0) {
            return Err(invalid("context", 0, "a window of at least 1 pixel"));
        }
        self.mean = m;
        Ok(self)
    }

    /// Pixels per patch (`p²`).
    pub fn dim(&self) -> usize {
        self.patch * self.patch
    }

    /// Patch positions as `(rows, cols)` of the grid.
    pub fn grid(&self) -> (usize, usize) {
        (
            (self.height - self.patch) / self.stride + 1,
            (self.width - self.patch) / self.stride + 1,
        )
    }

    /// Patches per image.
    pub fn count(&self) -> usize {
        let (r, c) = self.grid();
        r * c
    }

    /// Pixels per image.
    pub fn image_len(&self) -> usize {
        self.height * self.width
    }

    /// The patches of one image as the columns of a `p² x count` matrix, grid row by grid
    /// row.
    pub fn extract<T: Real>(&self, image: &[T]) -> Result<Mat<T>> {
        let mut out = Mat::zeros(self.dim(), self.count());
        self.extract_into(image, &mut out, 0)?;
        Ok(out)
    }

    /// Writes the patches of one image into columns `first..first + count` of `out`.
    pub fn extract_into<T: Real>(&self, image: &[T], out: &mut Mat<T>, first: usize) -> Result<()> {
        if image.len() != self.image_len() {
            return Err(SmtError::ShapeMismatch {
                what: "image",
                expected: format!(
                    "{} pixels ({}x{})",
                    self.image_len(),
                    self.height,
                    self.width
                ),
                found: format!("{} pixels", image.len()),
            });
        }
        if let Some(i) = image.iter().position(|v| !v.is_finite()) {
            return Err(SmtError::NonFinite {
                what: "pixel",
                index: i,
            });
        }
        let (gr, gc) = self.grid();
        let p = self.patch;
        let integral = match self.mean {
            MeanRemoval::Context(_) => Some(integral_image(image, self.height, self.width)),
            _ => None,
        };
        for r in 0..gr {
            for c in 0..gc {
                let (y0, x0) = (r * self.stride, c * self.stride);
                let col = out.col_mut(first + r * gc + c);
                let col = col.try_as_col_major_mut().map(|c| c.as_slice_mut());
                let Some(col) = col else { continue };
                for dy in 0..p {
                    let row = &image[(y0 + dy) * self.width + x0..][..p];
                    col[dy * p..(dy + 1) * p].copy_from_slice(row);
                }
                let mean = match self.mean {
                    MeanRemoval::None => T::zero(),
                    MeanRemoval::Patch => {
                        col.iter().fold(T::zero(), |a, &b| a + b) / T::cast_usize(p * p)
                    }
                    MeanRemoval::Context(w) => {
                        let (cy, cx) = (y0 + p / 2, x0 + p / 2);
                        let half = w / 2;
                        let (ya, yb) = (cy.saturating_sub(half), (cy + w - half).min(self.height));
                        let (xa, xb) = (cx.saturating_sub(half), (cx + w - half).min(self.width));
                        let ii = integral.as_ref().map_or(&[][..], |v| v.as_slice());
                        let s = window_sum(ii, self.width, ya, yb, xa, xb);
                        T::cast_f64(s / ((yb - ya) * (xb - xa)) as f64)
                    }
                };
                if mean != T::zero() {
                    for v in col.iter_mut() {
                        *v -= mean;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Summed-area table with a zero first row and column: `(height + 1) x (width + 1)`.
fn integral_image<T: Real>(image: &[T], h: usize, w: usize) -> Vec<f64> {
    let mut s = vec![0.0; (h + 1) * (w + 1)];
    for y in 0..h {
        let mut row = 0.0;
        for x in 0..w {
            row += image[y * w + x].into_f64();
            s[(y + 1) * (w + 1) + x + 1] = s[y * (w + 1) + x + 1] + row;
        }
    }
    s
}

fn window_sum(s: &[f64], w: usize, ya: usize, yb: usize, xa: usize, xb: usize) -> f64 {
    let at = |y: usize, x: usize| s[y * (w + 1) + x];
    at(yb, xb) - at(ya, xb) - at(yb, xa) + at(ya, xa)
}
