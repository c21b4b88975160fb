//! Image denoising with a dictionary learned on the noisy image itself (Elad & Aharon, *Image
//! denoising via sparse and redundant representations over learned dictionaries*, IEEE TIP
//! 15(12), 2006): K-SVD on the image's overlapping patches with error-constrained OMP (each
//! patch coded until its residual is at the noise level), then every patch is replaced by its
//! sparse approximation and the overlaps are averaged.

use dictum_coding::{Dictionary, Encoder, Omp};
use dictum_linalg::backend::SparseProduct;
use dictum_linalg::exec::{Exec, IterationStats};
use dictum_linalg::{Mat, Real};

use crate::dictionary::{Ksvd, Replacement};
use crate::error::{Result, invalid};
use crate::fit::Learner;
use crate::patches::{PatchGrid, overcomplete_dct};
use crate::rng::Rng;

/// The denoiser's parameters; [`PatchDenoiser::new`] gives the paper's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchDenoiser {
    patch: usize,
    n_atoms: usize,
    gain: f64,
    train_patches: usize,
    max_iter: usize,
    noisy_weight: f64,
}

impl Default for PatchDenoiser {
    fn default() -> Self {
        Self::new()
    }
}

/// A denoised image with the dictionary that produced it.
#[derive(Debug, Clone)]
pub struct Denoised<T> {
    /// The denoised image, row-major like the input.
    pub image: Vec<T>,
    /// The learned dictionary, `p² x n_atoms`.
    pub dictionary: Mat<T>,
    /// K-SVD's history on the training patches.
    pub history: Vec<IterationStats>,
    /// Mean non-zeros per patch in the final coding.
    pub mean_nnz: f64,
}

impl PatchDenoiser {
    /// 8x8 patches, 256 atoms from an overcomplete DCT, noise gain 1.15, K-SVD for 10
    /// iterations on 20 000 random patches, no extra weight on the noisy image.
    pub fn new() -> Self {
        Self {
            patch: 8,
            n_atoms: 256,
            gain: 1.15,
            train_patches: 20_000,
            max_iter: 10,
            noisy_weight: 0.0,
        }
    }

    /// Patch side `p`.
    pub fn patch(mut self, p: usize) -> Self {
        self.patch = p;
        self
    }

    /// Atoms of the dictionary.
    pub fn n_atoms(mut self, m: usize) -> Self {
        self.n_atoms = m;
        self
    }

    /// Patches are coded until `‖r‖ ≤ gain·σ·p` (the paper's `C = 1.15`).
    pub fn gain(mut self, gain: f64) -> Self {
        self.gain = gain;
        self
    }

    /// Random patches K-SVD trains on (all patches when the image has fewer).
    pub fn train_patches(mut self, n: usize) -> Self {
        self.train_patches = n;
        self
    }

    /// K-SVD iterations.
    pub fn max_iter(mut self, n: usize) -> Self {
        self.max_iter = n;
        self
    }

    /// Weight `λ` of the noisy image in the final average (the paper uses `30/σ` for pixel
    /// values in 0..255). Default 0: plain averaging of the patches.
    pub fn noisy_weight(mut self, lambda: f64) -> Self {
        self.noisy_weight = lambda;
        self
    }

    fn validate(&self, sigma: f64) -> Result<()> {
        let m = "denoise";
        if self.patch == 0 {
            return Err(invalid(
                m,
                "patch",
                0,
                "patches are at least 1x1 (8 is usual)",
            ));
        }
        if self.n_atoms == 0 {
            return Err(invalid(m, "n_atoms", 0, "at least one atom (256 is usual)"));
        }
        if !(self.gain.is_finite() && self.gain > 0.0) {
            return Err(invalid(
                m,
                "gain",
                self.gain,
                "a positive number (1.15 in the paper)",
            ));
        }
        if !(self.noisy_weight.is_finite() && self.noisy_weight >= 0.0) {
            return Err(invalid(
                m,
                "noisy_weight",
                self.noisy_weight,
                "a number ≥ 0",
            ));
        }
        if !(sigma.is_finite() && sigma > 0.0) {
            return Err(invalid(
                m,
                "sigma",
                sigma,
                "the noise standard deviation, > 0",
            ));
        }
        if self.train_patches == 0 || self.max_iter == 0 {
            return Err(invalid(
                m,
                if self.max_iter == 0 {
                    "max_iter"
                } else {
                    "train_patches"
                },
                0,
                "at least 1",
            ));
        }
        Ok(())
    }

    /// Denoises a `height x width` row-major image corrupted by white Gaussian noise of
    /// standard deviation `sigma` (in the image's units). The training patches are drawn
    /// from the context's seed.
    pub fn denoise<T: Real>(
        &self,
        noisy: &[T],
        height: usize,
        width: usize,
        sigma: f64,
        exec: &Exec<'_>,
    ) -> Result<Denoised<T>> {
        self.validate(sigma)?;
        let grid = PatchGrid::new(height, width, self.patch, 1)?;
        if let Some(i) = noisy.iter().position(|v| !v.is_finite()) {
            return Err(invalid(
                "denoise",
                "image",
                format!("pixel {i} = {}", noisy[i]),
                "finite pixel values",
            ));
        }
        let mut patches = grid.extract(noisy)?;
        let d = self.patch * self.patch;
        // The mean of each patch is kept aside: the dictionary models the texture only.
        let means: Vec<T> = (0..patches.ncols())
            .map(|j| {
                let mean = patches.col(j).sum() / T::cast_usize(d);
                for k in 0..d {
                    patches[(k, j)] -= mean;
                }
                mean
            })
            .collect();
        let mut rng = Rng::new(exec.seed());
        let mut pick = rng.sample_indices(patches.ncols(), self.train_patches);
        pick.sort_unstable();
        let train = Mat::from_fn(d, pick.len(), |k, c| patches[(k, pick[c])]);
        let tol = T::cast_f64((self.gain * sigma).powi(2) * d as f64);
        let coder = Omp::new()
            .tol(tol.into_f64())
            .n_nonzero_coefs((d / 2).max(1).min(self.n_atoms))
            .check()?;
        let d0 = overcomplete_dct(self.patch, self.n_atoms);
        let d0 = Mat::<T>::from_fn(d, self.n_atoms, |i, j| T::cast_f64(d0[(i, j)]));
        let ksvd = Ksvd::new(self.n_atoms, coder.clone())
            .max_iter(self.max_iter)
            .replacement(Replacement::default());
        let learned = ksvd.fit_from(
            train.as_ref(),
            Some(d0.as_ref()),
            &exec.with_seed(rng.next_u64()),
        )?;
        let dict = learned.model.dictionary;
        let codes = coder.encode(&Dictionary::new(dict.as_ref())?, patches.as_ref(), exec)?;
        let mean_nnz = codes.nnz() as f64 / codes.ncols().max(1) as f64;
        let mut recon =
            exec.sparse_product(SparseProduct::DenseTimesSparse, &codes, dict.as_ref())?;
        for (j, &mean) in means.iter().enumerate() {
            for k in 0..d {
                recon[(k, j)] += mean;
            }
        }
        let base = (self.noisy_weight > 0.0).then(|| (noisy, T::cast_f64(self.noisy_weight)));
        let image = grid.average(recon.as_ref(), base)?;
        Ok(Denoised {
            image,
            dictionary: dict,
            history: learned.history,
            mean_nnz,
        })
    }
}

/// Peak signal-to-noise ratio `10·log10(peak² / MSE)` in dB between two images.
pub fn psnr<T: Real>(reference: &[T], image: &[T], peak: f64) -> f64 {
    let n = reference.len().min(image.len()).max(1);
    let mse: f64 = reference
        .iter()
        .zip(image)
        .map(|(&a, &b)| (a.into_f64() - b.into_f64()).powi(2))
        .sum::<f64>()
        / n as f64;
    10.0 * (peak * peak / mse).log10()
}
