//! Features of images from patch embeddings (spatial pooling), and the cosine k-nearest-
//! neighbour classifier the SMT papers evaluate with (soft voting with a temperature, as in
//! Wu et al. 2018 and Chen et al. 2023).

use dictum_linalg::backend::Trans;
use dictum_linalg::exec::Exec;
use dictum_linalg::norms::normalize_columns;
use dictum_linalg::{Mat, MatRef};

use crate::error::{Result, SmtError, invalid};

/// Pools the patch embeddings of images: `emb` is `f x (images·rows·cols)` with each image's
/// patches consecutive in raster order; each image's grid is cut into `pool x pool` regions
/// whose embeddings are averaged, giving `f·pool²` features per image, L2-normalized.
pub fn pool_images(
    emb: MatRef<'_, f64>,
    rows: usize,
    cols: usize,
    pool: usize,
) -> Result<Mat<f64>> {
    let per = rows * cols;
    if pool == 0 || pool > rows.min(cols) {
        return Err(invalid(
            "pool",
            pool,
            "between 1 and the patch grid's smaller side",
        ));
    }
    if per == 0 || emb.ncols() % per != 0 {
        return Err(SmtError::ShapeMismatch {
            what: "patch embeddings",
            expected: format!("a multiple of {per} columns (patches per image)"),
            found: format!("{} columns", emb.ncols()),
        });
    }
    let f = emb.nrows();
    let images = emb.ncols() / per;
    let mut out = Mat::<f64>::zeros(f * pool * pool, images);
    for img in 0..images {
        for y in 0..rows {
            for x in 0..cols {
                let region = (y * pool / rows) * pool + x * pool / cols;
                let col = emb.col(img * per + y * cols + x);
                for k in 0..f {
                    out[(region * f + k, img)] += col[k];
                }
            }
        }
    }
    normalize_columns(out.as_mut());
    Ok(out)
}

/// A cosine k-nearest-neighbour classifier with soft voting: neighbour `i` votes for its
/// label with weight `exp(sim_i / temperature)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Knn {
    k: usize,
    temperature: f64,
}

/// Accuracy of a kNN evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct KnnScore {
    /// Fraction whose best-voted label is right.
    pub top1: f64,
    /// Fraction whose label is among the five best-voted.
    pub top5: f64,
    /// The predicted label of each query.
    pub predictions: Vec<usize>,
}

impl Knn {
    /// `k` neighbours, temperature `temperature` (> 0; small: nearly a majority of the closest).
    pub fn new(k: usize, temperature: f64) -> Self {
        Self { k, temperature }
    }

    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        if self.k == 0 {
            return Err(invalid("k", 0, "at least 1 neighbour"));
        }
        if !(self.temperature > 0.0 && self.temperature.is_finite()) {
            return Err(invalid(
                "temperature",
                self.temperature,
                "a positive number",
            ));
        }
        Ok(())
    }

    /// Classifies the columns of `query` against the columns of `train` (both `f x ·`,
    /// compared by cosine similarity) with labels `train_labels`, and scores them against
    /// `query_labels`.
    pub fn evaluate(
        &self,
        train: MatRef<'_, f64>,
        train_labels: &[usize],
        query: MatRef<'_, f64>,
        query_labels: &[usize],
        exec: &Exec<'_>,
    ) -> Result<KnnScore> {
        self.validate()?;
        if train.nrows() != query.nrows() {
            return Err(SmtError::ShapeMismatch {
                what: "query features",
                expected: format!("{} rows (the training features')", train.nrows()),
                found: format!("{} rows", query.nrows()),
            });
        }
        if train_labels.len() != train.ncols() || query_labels.len() != query.ncols() {
            return Err(SmtError::ShapeMismatch {
                what: "labels",
                expected: format!("{} and {}", train.ncols(), query.ncols()),
                found: format!("{} and {}", train_labels.len(), query_labels.len()),
            });
        }
        if train.ncols() == 0 || query.ncols() == 0 {
            return Err(SmtError::Empty {
                what: "training or query set",
            });
        }
        let unit = |m: MatRef<'_, f64>| {
            let mut o = m.to_owned();
            exec.normalize_columns(o.as_mut());
            o
        };
        let (tr, q) = (unit(train), unit(query));
        let n_labels = train_labels
            .iter()
            .max()
            .map_or(0, |&l| l + 1)
            .max(query_labels.iter().max().map_or(0, |&l| l + 1));
        let k = self.k.min(train.ncols());
        let (mut hit1, mut hit5) = (0usize, 0usize);
        let mut predictions = Vec::with_capacity(query.ncols());
        const BLOCK: usize = 1024;
        let mut start = 0;
        while start < q.ncols() {
            let len = BLOCK.min(q.ncols() - start);
            let sims = exec.product(
                tr.as_ref(),
                Trans::Yes,
                q.as_ref().subcols(start, len),
                Trans::No,
            )?;
            for j in 0..len {
                let s = sims.col(j);
                let mut idx: Vec<usize> = (0..tr.ncols()).collect();
                let by_sim = |a: &usize, b: &usize| s[*b].total_cmp(&s[*a]).then(a.cmp(b));
                if k < idx.len() {
                    idx.select_nth_unstable_by(k - 1, by_sim);
                    idx.truncate(k);
                }
                let mut votes = vec![0.0; n_labels];
                for &i in &idx {
                    votes[train_labels[i]] += ((s[i] - 1.0) / self.temperature).exp();
                }
                let mut order: Vec<usize> = (0..n_labels).collect();
                order.sort_by(|&a, &b| votes[b].total_cmp(&votes[a]).then(a.cmp(&b)));
                let truth = query_labels[start + j];
                hit1 += usize::from(order[0] == truth);
                hit5 += usize::from(order.iter().take(5).any(|&l| l == truth));
                predictions.push(order[0]);
            }
            start += len;
        }
        let n = query.ncols() as f64;
        Ok(KnnScore {
            top1: hit1 as f64 / n,
            top5: hit5 as f64 / n,
            predictions,
        })
    }
}
