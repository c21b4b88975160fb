//! The whole SMT for images, streamed: fit on a set of images (patches, whitening,
//! dictionary, codes, sums, embedding) and turn images into pooled features.
//!
//! Memory stays bounded by the sample used for whitening and the dictionary, one chunk of
//! images' patches and codes, and the two `m x m` sums: the code matrix of all patches is
//! never held.

use dictum_coding::{Dictionary, Encoder};
use dictum_linalg::exec::Exec;
use dictum_linalg::{Mat, MatRef};

use crate::coding::GeneralCoding;
use crate::dictionary::{greedy_patches, kmeans_atoms};
use crate::embed::{Covariances, Embedding, SmtEmbedding};
use crate::error::{Result, SmtError, invalid};
use crate::knn::pool_images;
use crate::operator::{Derivative, DifferentialOperator};
use crate::patches::{MeanRemoval, PatchExtractor};
use crate::whiten::{MomentAccumulator, Zca};

/// How the dictionary is built.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DictionaryKind {
    /// k-means centres (spherical: on the unit sphere), `iters` Lloyd iterations.
    KMeans {
        /// Spherical k-means.
        spherical: bool,
        /// Iterations at most.
        iters: usize,
    },
    /// Data patches accepted while their cosine similarity to every accepted atom is at
    /// most `threshold`.
    Greedy {
        /// The similarity bound.
        threshold: f64,
    },
}

/// The stages the pipeline reports to the execution context's observer, as the `stage` of
/// its progress events (each also a checkpoint where the observer may cancel).
pub mod stage {
    /// Sampling patches for whitening and the dictionary (`0` of `1`).
    pub const SAMPLING: &str = "smt-sampling";
    /// Building the dictionary (`0` of `1`).
    pub const DICTIONARY: &str = "smt-dictionary";
    /// Coding images and accumulating the sums (`done` of `total` images).
    pub const ACCUMULATING: &str = "smt-images";
    /// Solving the eigenproblem (`0` of `1`).
    pub const SOLVING: &str = "smt-eigenproblem";
    /// Computing features (`done` of `total` images).
    pub const FEATURES: &str = "smt-features";
}

/// SMT parameters for images.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSmt {
    height: usize,
    width: usize,
    patch: usize,
    mean: MeanRemoval,
    whiten_tol: Option<f64>,
    atoms: usize,
    dictionary: DictionaryKind,
    threshold: f64,
    max_active: Option<usize>,
    binary: bool,
    given: Option<Mat<f32>>,
    dims: usize,
    drop: usize,
    derivative: Derivative,
    radius: usize,
    pool: usize,
    sample: usize,
    chunk: usize,
}

/// A fitted SMT: everything needed to turn images into features.
#[derive(Debug, Clone, PartialEq)]
pub struct SmtModel {
    /// Image height.
    pub height: usize,
    /// Image width.
    pub width: usize,
    /// Patch side.
    pub patch: usize,
    /// Mean removal.
    pub mean: MeanRemoval,
    /// Whitening, if any.
    pub zca: Option<Zca>,
    /// Unit-norm atoms, `p² x m`.
    pub dictionary: Mat<f32>,
    /// Cosine threshold of the codes.
    pub threshold: f64,
    /// Cap on active atoms per patch.
    pub max_active: Option<usize>,
    /// Binary codes (else cosine-valued).
    pub binary: bool,
    /// The embedding.
    pub embedding: Embedding,
    /// Pooling regions per side.
    pub pool: usize,
}

impl ImageSmt {
    /// SMT of `height x width` images with `patch x patch` patches: patch means removed,
    /// ZCA with tolerance 1e-3, `atoms` spherical k-means atoms, codes at cosine 0.3, `dims`
    /// dimensions, spatial second derivative over radius 1, 2x2 pooling, 100 000 sampled
    /// patches for whitening and the dictionary (drawn from the context's seed).
    pub fn new(height: usize, width: usize, patch: usize, atoms: usize, dims: usize) -> Self {
        Self {
            height,
            width,
            patch,
            mean: MeanRemoval::Patch,
            whiten_tol: Some(1e-3),
            atoms,
            dictionary: DictionaryKind::KMeans {
                spherical: true,
                iters: 20,
            },
            threshold: 0.3,
            max_active: None,
            binary: true,
            given: None,
            dims,
            drop: 1,
            derivative: Derivative::Second,
            radius: 1,
            pool: 2,
            sample: 100_000,
            chunk: 256,
        }
    }

    /// Mean removal of the patches.
    pub fn mean_removal(mut self, m: MeanRemoval) -> Self {
        self.mean = m;
        self
    }

    /// ZCA tolerance (`None`: no whitening).
    pub fn whiten_tol(mut self, t: Option<f64>) -> Self {
        self.whiten_tol = t;
        self
    }

    /// How the dictionary is built.
    pub fn dictionary(mut self, d: DictionaryKind) -> Self {
        self.dictionary = d;
        self
    }

    /// Cosine threshold of the general sparse codes, in `(0, 1]`.
    pub fn threshold(mut self, t: f64) -> Self {
        self.threshold = t;
        self
    }

    /// Keep at most this many active atoms per patch (the most similar): bounds the cost of
    /// the sums, which grows with the square of the active atoms.
    pub fn max_active(mut self, k: Option<usize>) -> Self {
        self.max_active = k;
        self
    }

    /// Codes of 1 (`true`, default) or of the cosine similarity.
    pub fn binary(mut self, b: bool) -> Self {
        self.binary = b;
        self
    }

    /// Use these atoms (`p² x m`, normalized here) instead of learning a dictionary; the
    /// atom count is theirs.
    pub fn given_dictionary(mut self, atoms: Option<Mat<f32>>) -> Self {
        if let Some(a) = &atoms {
            self.atoms = a.ncols();
        }
        self.given = atoms;
        self
    }

    /// Smallest directions dropped before the kept `dims`.
    pub fn drop_first(mut self, j: usize) -> Self {
        self.drop = j;
        self
    }

    /// Derivative order of the spatial operator.
    pub fn derivative(mut self, d: Derivative) -> Self {
        self.derivative = d;
        self
    }

    /// Neighbourhood radius of the spatial operator, in patch-grid steps.
    pub fn radius(mut self, r: usize) -> Self {
        self.radius = r;
        self
    }

    /// Pooling regions per side of the patch grid.
    pub fn pool(mut self, p: usize) -> Self {
        self.pool = p;
        self
    }

    /// Patches sampled for whitening and the dictionary.
    pub fn sample(mut self, n: usize) -> Self {
        self.sample = n;
        self
    }

    /// Images coded per chunk (memory: their patches and codes).
    pub fn chunk(mut self, n: usize) -> Self {
        self.chunk = n;
        self
    }

    fn extractor(&self) -> Result<PatchExtractor> {
        PatchExtractor::new(self.height, self.width, self.patch)?.mean_removal(self.mean)
    }

    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        let ex = self.extractor()?;
        GeneralCoding::new(self.threshold)
            .max_active(self.max_active)
            .validate()?;
        if self.atoms == 0 {
            return Err(invalid("atoms", 0, "at least 1"));
        }
        if self.dims == 0 || self.dims + self.drop >= self.atoms {
            return Err(invalid(
                "dims",
                self.dims,
                "at least 1, and dims + dropped directions fewer than the atoms",
            ));
        }
        let (gr, gc) = ex.grid();
        if self.pool == 0 || self.pool > gr.min(gc) {
            return Err(invalid(
                "pool",
                self.pool,
                "between 1 and the patch grid's smaller side",
            ));
        }
        if self.radius == 0 {
            return Err(invalid("radius", 0, "at least 1"));
        }
        if self.sample == 0 || self.chunk == 0 {
            return Err(invalid("sample/chunk", 0, "at least 1"));
        }
        if let Some(t) = self.whiten_tol
            && !(t >= 0.0 && t.is_finite())
        {
            return Err(invalid("whiten_tol", t, "a number ≥ 0"));
        }
        Ok(())
    }

    /// Fits on the columns of `images` (`height·width x n`, row-major pixels per column),
    /// with general sparse codes.
    ///
    /// The patch sample and the dictionary come from the context's seed; the stages
    /// ([`stage`]) are reported to its observer, which may cancel between them and between
    /// chunks of images.
    pub fn fit(&self, images: MatRef<'_, f32>, exec: &Exec<'_>) -> Result<SmtModel> {
        self.fit_coded(images, None, exec)
    }

    /// Fits like [`fit`](Self::fit), coding the patches with `encoder` (any `dictum-coding`
    /// encoder: OMP with `k = 1` is vector quantization with values) instead of general
    /// sparse coding; pass the same encoder to [`SmtModel::features_with_encoder`].
    pub fn fit_with_encoder(
        &self,
        images: MatRef<'_, f32>,
        encoder: &dyn Encoder<f32>,
        exec: &Exec<'_>,
    ) -> Result<SmtModel> {
        self.fit_coded(images, Some(encoder), exec)
    }

    fn fit_coded(
        &self,
        images: MatRef<'_, f32>,
        encoder: Option<&dyn Encoder<f32>>,
        exec: &Exec<'_>,
    ) -> Result<SmtModel> {
        self.validate()?;
        let ex = self.extractor()?;
        check_images(images, &ex)?;
        let n = images.ncols();
        let per = ex.count();
        // 1. A seeded sample of patches for whitening and the dictionary.
        exec.progress(stage::SAMPLING, 0, 1)?;
        let mut rng = dictum_learn::rng::Rng::new(exec.seed());
        let total = n * per;
        let take = self.sample.min(total);
        let mut picks = rng.sample_indices(total, take);
        picks.sort_unstable();
        let mut sample = Mat::<f32>::zeros(ex.dim(), take);
        let mut img_patches: Option<(usize, Mat<f32>)> = None;
        for (at, &k) in picks.iter().enumerate() {
            let (img, p) = (k / per, k % per);
            if img_patches.as_ref().is_none_or(|(i, _)| *i != img) {
                let px = column_f32(images, img);
                img_patches = Some((img, ex.extract(&px)?));
            }
            if let Some((_, m)) = &img_patches {
                for i in 0..ex.dim() {
                    sample[(i, at)] = m[(i, p)];
                }
            }
        }
        let zca = match self.whiten_tol {
            Some(tol) => {
                let mut acc = MomentAccumulator::new(ex.dim());
                acc.add(sample.as_ref(), exec)?;
                Some(acc.zca(tol, exec)?)
            }
            None => None,
        };
        let sample = match &zca {
            Some(z) => z.apply(sample.as_ref(), exec)?,
            None => sample,
        };
        // 2. The dictionary.
        exec.progress(stage::DICTIONARY, 0, 1)?;
        let dictionary = match (&self.given, self.dictionary) {
            (Some(atoms), _) => {
                if atoms.nrows() != ex.dim() {
                    return Err(SmtError::ShapeMismatch {
                        what: "given dictionary",
                        expected: format!("{} rows (patch pixels)", ex.dim()),
                        found: format!("{} rows", atoms.nrows()),
                    });
                }
                crate::dictionary::normalized(atoms.as_ref())?
            }
            (None, kind) => match kind {
                DictionaryKind::KMeans { spherical, iters } => {
                    kmeans_atoms(sample.as_ref(), self.atoms, spherical, iters, exec)?
                }
                DictionaryKind::Greedy { threshold } => {
                    greedy_patches(sample.as_ref(), self.atoms, threshold, exec)?
                }
            },
        };
        let m = dictionary.ncols();
        if self.dims + self.drop >= m {
            return Err(invalid(
                "dims",
                self.dims,
                "dims + dropped directions must be fewer than the atoms found",
            ));
        }
        // 3–4. Codes and sums, chunk by chunk.
        let general = GeneralCoding::new(self.threshold)
            .max_active(self.max_active)
            .binary(self.binary);
        let checked = Dictionary::new(dictionary.as_ref())?;
        let coder = match encoder {
            Some(e) => Coder::Encoder(e, &checked),
            None => Coder::General(&general, dictionary.as_ref()),
        };
        let (gr, gc) = ex.grid();
        let op = DifferentialOperator::spatial(self.derivative, gr, gc, self.radius)?;
        let mut cov = Covariances::new(m)?;
        let mut done = 0;
        while done < n {
            let len = self.chunk.min(n - done);
            let codes = code_chunk(&ex, zca.as_ref(), coder, images, done, len, exec)?;
            cov.add_groups(&codes, per, &op, exec)?;
            done += len;
            exec.progress(stage::ACCUMULATING, done, n)?;
        }
        // 5. The embedding.
        exec.progress(stage::SOLVING, 0, 1)?;
        let embedding = SmtEmbedding::new(self.dims)
            .drop_first(self.drop)
            .fit_owned(cov, exec)?;
        drop(checked);
        Ok(SmtModel {
            height: self.height,
            width: self.width,
            patch: self.patch,
            mean: self.mean,
            zca,
            dictionary,
            threshold: self.threshold,
            max_active: self.max_active,
            binary: self.binary,
            embedding,
            pool: self.pool,
        })
    }
}

fn check_images(images: MatRef<'_, f32>, ex: &PatchExtractor) -> Result<()> {
    if images.nrows() != ex.image_len() {
        return Err(SmtError::ShapeMismatch {
            what: "images (one per column)",
            expected: format!("{} pixels per image", ex.image_len()),
            found: format!("{}", images.nrows()),
        });
    }
    if images.ncols() == 0 {
        return Err(SmtError::Empty { what: "images" });
    }
    Ok(())
}

fn column_f32(images: MatRef<'_, f32>, j: usize) -> Vec<f32> {
    images.col(j).iter().copied().collect()
}

/// Which sparse coder makes the codes, with the dictionary in the form it takes.
#[derive(Clone, Copy)]
enum Coder<'a> {
    General(&'a GeneralCoding, MatRef<'a, f32>),
    Encoder(&'a dyn Encoder<f32>, &'a Dictionary<'a, f32>),
}

/// Codes of the patches of images `first..first + len`, image after image.
fn code_chunk(
    ex: &PatchExtractor,
    zca: Option<&Zca>,
    coder: Coder<'_>,
    images: MatRef<'_, f32>,
    first: usize,
    len: usize,
    exec: &Exec<'_>,
) -> Result<dictum_linalg::CscMatrix<f32>> {
    let per = ex.count();
    let mut patches = Mat::<f32>::zeros(ex.dim(), len * per);
    for k in 0..len {
        let px = column_f32(images, first + k);
        ex.extract_into(&px, &mut patches, k * per)?;
    }
    let patches = match zca {
        Some(z) => z.apply(patches.as_ref(), exec)?,
        None => patches,
    };
    match coder {
        Coder::General(g, dictionary) => g.encode(dictionary, patches.as_ref(), exec),
        Coder::Encoder(e, dict) => Ok(e.encode(dict, patches.as_ref(), exec)?),
    }
}

impl SmtModel {
    fn extractor(&self) -> Result<PatchExtractor> {
        PatchExtractor::new(self.height, self.width, self.patch)?.mean_removal(self.mean)
    }

    /// Pooled, L2-normalized features of the columns of `images` (`f·pool² x n`); progress
    /// is reported as [`stage::FEATURES`].
    pub fn features(&self, images: MatRef<'_, f32>, exec: &Exec<'_>) -> Result<Mat<f64>> {
        self.features_coded(images, None, exec)
    }

    /// [`features`](Self::features) of a model fitted with
    /// [`ImageSmt::fit_with_encoder`], coding with the same `encoder`.
    pub fn features_with_encoder(
        &self,
        images: MatRef<'_, f32>,
        encoder: &dyn Encoder<f32>,
        exec: &Exec<'_>,
    ) -> Result<Mat<f64>> {
        self.features_coded(images, Some(encoder), exec)
    }

    fn features_coded(
        &self,
        images: MatRef<'_, f32>,
        encoder: Option<&dyn Encoder<f32>>,
        exec: &Exec<'_>,
    ) -> Result<Mat<f64>> {
        let ex = self.extractor()?;
        check_images(images, &ex)?;
        let general = GeneralCoding::new(self.threshold)
            .max_active(self.max_active)
            .binary(self.binary);
        let checked = Dictionary::new(self.dictionary.as_ref())?;
        let coder = match encoder {
            Some(e) => Coder::Encoder(e, &checked),
            None => Coder::General(&general, self.dictionary.as_ref()),
        };
        let (gr, gc) = ex.grid();
        let n = images.ncols();
        let f = self.embedding.dims() * self.pool * self.pool;
        let mut out = Mat::<f64>::zeros(f, n);
        let chunk = 256;
        let mut done = 0;
        while done < n {
            let len = chunk.min(n - done);
            let codes = code_chunk(&ex, self.zca.as_ref(), coder, images, done, len, exec)?;
            let beta = self.embedding.transform(&codes, true)?;
            let pooled = pool_images(beta.as_ref(), gr, gc, self.pool)?;
            for j in 0..len {
                for i in 0..f {
                    out[(i, done + j)] = pooled[(i, j)];
                }
            }
            done += len;
            exec.progress(stage::FEATURES, done, n)?;
        }
        Ok(out)
    }
}
