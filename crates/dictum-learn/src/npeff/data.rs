//! NPEFF's data: per-example Fishers (PEFs), the dataset-level Fisher diagonal and the two
//! kinds of decomposition, as the algorithms produce and consume them. Matrices are
//! row-major `[rows, cols]`, as in the reference implementation (`W` is
//! `[n_examples, n_components]`); the reference's HDF5/npz layouts are in `dictum-io`, and
//! the `dictum` facade reads and writes these types in them.

/// Labels and predicted logits, saved with every PEF file (`data/labels`,
/// `data/predicted_logits`; older files name the logits `data/logits`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Predictions {
    /// True label of each example.
    pub labels: Vec<i32>,
    /// Logits, `[n_examples, n_classes]` row-major.
    pub logits: Vec<f32>,
    /// Classes of the model (columns of `logits`).
    pub n_classes: usize,
}

impl Predictions {
    /// The predicted class of example `i` (the arg-max logit).
    pub fn predicted(&self, i: usize) -> usize {
        let row = &self.logits[i * self.n_classes..(i + 1) * self.n_classes];
        let mut best = 0;
        for (c, &v) in row.iter().enumerate() {
            if v > row[best] {
                best = c;
            }
        }
        best
    }

    /// The rows of `keep`, in that order.
    pub fn subset(&self, keep: &[usize]) -> Self {
        let k = self.n_classes;
        Self {
            labels: keep.iter().map(|&i| self.labels[i]).collect(),
            logits: keep
                .iter()
                .flat_map(|&i| self.logits[i * k..(i + 1) * k].iter().copied())
                .collect(),
            n_classes: k,
        }
    }
}

/// Sparse diagonal PEFs (D-PEFs): for each example the `nnz` largest entries of
/// `f_i = Σ_c p(c|x_i)·(∇_θ log p(c|x_i))²`, and the dense norm `‖f_i‖₂`.
#[derive(Debug, Clone, PartialEq)]
pub struct DPefs {
    /// Number of model parameters (the dense length of each PEF).
    pub n_parameters: usize,
    /// Kept entries per example.
    pub nnz: usize,
    /// Values, `[n_examples, nnz]` row-major.
    pub values: Vec<f32>,
    /// Parameter indices of `values`.
    pub indices: Vec<i32>,
    /// `‖f_i‖₂` of the dense PEF of each example.
    pub norms: Vec<f32>,
    /// Labels and logits.
    pub predictions: Predictions,
}

impl DPefs {
    /// Number of examples.
    pub fn n_examples(&self) -> usize {
        self.norms.len()
    }

    /// Indices and values of example `i`.
    pub fn example(&self, i: usize) -> (&[i32], &[f32]) {
        let r = i * self.nnz..(i + 1) * self.nnz;
        (&self.indices[r.clone()], &self.values[r])
    }

    /// The examples `keep`, in that order.
    pub fn subset(&self, keep: &[usize]) -> Self {
        let k = self.nnz;
        Self {
            n_parameters: self.n_parameters,
            nnz: k,
            values: keep
                .iter()
                .flat_map(|&i| self.values[i * k..(i + 1) * k].iter().copied())
                .collect(),
            indices: keep
                .iter()
                .flat_map(|&i| self.indices[i * k..(i + 1) * k].iter().copied())
                .collect(),
            norms: keep.iter().map(|&i| self.norms[i]).collect(),
            predictions: self.predictions.subset(keep),
        }
    }
}

/// Sparse low-rank PEFs (LRM-PEFs): `F_i ≈ S_i·S_iᵀ`, column `c` of `S_i` being
/// `√p(c|x_i)·∇_θ log p(c|x_i)`, sparsified per example to its `nnz` largest entries and
/// stored column by column (CSC).
#[derive(Debug, Clone, PartialEq)]
pub struct LrmPefs {
    /// Number of model parameters (rows of each `S_i`).
    pub n_parameters: usize,
    /// Stored entries per example.
    pub nnz: usize,
    /// Values, `[n_examples, nnz]` row-major, column after column of `S_i`.
    pub values: Vec<f32>,
    /// Parameter index of each value.
    pub row_indices: Vec<i32>,
    /// Columns of each `S_i`.
    pub ranks: Vec<usize>,
    /// Entries in each column, all examples' columns one after the other (`Σ ranks`).
    pub col_sizes: Vec<usize>,
    /// `‖S_i·S_iᵀ‖_F` of the dense PEF.
    pub norms: Vec<f32>,
    /// Labels and logits.
    pub predictions: Predictions,
    /// Whether to save in the variable-rank (LVRM) layout even when every rank is equal.
    pub variable_rank: bool,
}

/// One example's `S_i`, column by column.
#[derive(Debug, Clone, Copy)]
pub struct LrmExample<'a> {
    /// Parameter indices of the entries.
    pub rows: &'a [i32],
    /// The entries.
    pub values: &'a [f32],
    /// Entries per column.
    pub col_sizes: &'a [usize],
}

impl LrmExample<'_> {
    /// Column `c`: parameter indices and values.
    pub fn col(&self, c: usize) -> (&[i32], &[f32]) {
        let lo: usize = self.col_sizes[..c].iter().sum();
        let hi = lo + self.col_sizes[c];
        (&self.rows[lo..hi], &self.values[lo..hi])
    }
}

impl LrmPefs {
    /// Number of examples.
    pub fn n_examples(&self) -> usize {
        self.norms.len()
    }

    /// Offsets of each example's first column in `col_sizes` (`n_examples + 1` entries).
    pub fn col_starts(&self) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.ranks.len() + 1);
        let mut at = 0;
        out.push(0);
        for &r in &self.ranks {
            at += r;
            out.push(at);
        }
        out
    }

    /// Example `i` (`starts` from [`col_starts`](Self::col_starts)).
    pub fn example<'a>(&'a self, i: usize, starts: &[usize]) -> LrmExample<'a> {
        let r = i * self.nnz..(i + 1) * self.nnz;
        LrmExample {
            rows: &self.row_indices[r.clone()],
            values: &self.values[r],
            col_sizes: &self.col_sizes[starts[i]..starts[i + 1]],
        }
    }

    /// The examples `keep`, in that order.
    pub fn subset(&self, keep: &[usize]) -> Self {
        let k = self.nnz;
        let starts = self.col_starts();
        Self {
            n_parameters: self.n_parameters,
            nnz: k,
            values: keep
                .iter()
                .flat_map(|&i| self.values[i * k..(i + 1) * k].iter().copied())
                .collect(),
            row_indices: keep
                .iter()
                .flat_map(|&i| self.row_indices[i * k..(i + 1) * k].iter().copied())
                .collect(),
            ranks: keep.iter().map(|&i| self.ranks[i]).collect(),
            col_sizes: keep
                .iter()
                .flat_map(|&i| self.col_sizes[starts[i]..starts[i + 1]].iter().copied())
                .collect(),
            norms: keep.iter().map(|&i| self.norms[i]).collect(),
            predictions: self.predictions.subset(keep),
            variable_rank: self.variable_rank,
        }
    }
}

/// Either kind of PEFs.
#[derive(Debug, Clone, PartialEq)]
pub enum Pefs {
    /// Diagonal PEFs.
    Diagonal(DPefs),
    /// Low-rank PEFs.
    LowRank(LrmPefs),
}

impl Pefs {
    /// Number of examples.
    pub fn n_examples(&self) -> usize {
        match self {
            Pefs::Diagonal(p) => p.n_examples(),
            Pefs::LowRank(p) => p.n_examples(),
        }
    }

    /// Labels and logits.
    pub fn predictions(&self) -> &Predictions {
        match self {
            Pefs::Diagonal(p) => &p.predictions,
            Pefs::LowRank(p) => &p.predictions,
        }
    }

    /// The examples `keep`, in that order.
    pub fn subset(&self, keep: &[usize]) -> Self {
        match self {
            Pefs::Diagonal(p) => Pefs::Diagonal(p.subset(keep)),
            Pefs::LowRank(p) => Pefs::LowRank(p.subset(keep)),
        }
    }
}

/// A dataset-level diagonal Fisher, `[n_parameters]`.
#[derive(Debug, Clone, PartialEq)]
pub struct DiagonalDsf {
    /// The diagonal.
    pub fisher: Vec<f32>,
}

/// `H` of a D-NPEFF decomposition: dense, or CSR after sparsification.
#[derive(Debug, Clone, PartialEq)]
pub enum HFactor {
    /// `[n_components, n_features]` row-major.
    Dense(Vec<f32>),
    /// CSR.
    Sparse {
        /// Non-zero values, row after row.
        values: Vec<f32>,
        /// Row pointers (`n_components + 1`).
        row_offsets: Vec<i64>,
        /// Column of each value.
        column_indices: Vec<i32>,
    },
}

/// A D-NPEFF decomposition: `A ≈ W·H` over the kept parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct DNpeffDecomposition {
    /// Coefficients, `[n_examples, n_components]` row-major.
    pub w: Vec<f32>,
    /// Components.
    pub n_components: usize,
    /// `H` over the kept parameters.
    pub h: HFactor,
    /// For each column of `H`, the parameter it stands for.
    pub kept_indices: Vec<i32>,
    /// Number of model parameters.
    pub n_parameters: usize,
}

impl DNpeffDecomposition {
    /// Number of examples (rows of `W`).
    pub fn n_examples(&self) -> usize {
        self.w.len() / self.n_components.max(1)
    }

    /// Columns of `H` (kept parameters).
    pub fn n_features(&self) -> usize {
        self.kept_indices.len()
    }

    /// Row `j` of `H` spread over all parameters (zero where a parameter was not kept).
    pub fn full_component(&self, j: usize) -> Vec<f32> {
        let mut out = vec![0.0; self.n_parameters];
        let f = self.n_features();
        match &self.h {
            HFactor::Dense(h) => {
                for (c, &p) in self.kept_indices.iter().enumerate() {
                    out[p as usize] = h[j * f + c];
                }
            }
            HFactor::Sparse {
                values,
                row_offsets,
                column_indices,
            } => {
                for k in row_offsets[j] as usize..row_offsets[j + 1] as usize {
                    out[self.kept_indices[column_indices[k] as usize] as usize] = values[k];
                }
            }
        }
        out
    }
}

/// An LRM-NPEFF decomposition: `S_i·S_iᵀ ≈ Σ_j W_ij·g_j·g_jᵀ` over the kept parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct LrmNpeffDecomposition {
    /// Coefficients, `[n_examples, n_components]` row-major.
    pub w: Vec<f32>,
    /// Components.
    pub n_components: usize,
    /// Component vectors `g_j`, `[n_components, n_features]` row-major.
    pub g: Vec<f32>,
    /// For each column of `G`, the parameter it stands for.
    pub kept_indices: Vec<i32>,
    /// Number of model parameters.
    pub n_parameters: usize,
    /// Columns per PEF (classes) of the factorized PEFs.
    pub n_classes: usize,
    /// Iterations between two recorded losses.
    pub log_loss_frequency: usize,
    /// Losses of the G-only warm-up.
    pub losses_g_only: Vec<f32>,
    /// Losses of the joint iterations.
    pub losses_joint: Vec<f32>,
}

impl LrmNpeffDecomposition {
    /// Number of examples.
    pub fn n_examples(&self) -> usize {
        self.w.len() / self.n_components.max(1)
    }

    /// Columns of `G` (kept parameters).
    pub fn n_features(&self) -> usize {
        self.kept_indices.len()
    }

    /// `g_j` spread over all parameters.
    pub fn full_component(&self, j: usize) -> Vec<f32> {
        let mut out = vec![0.0; self.n_parameters];
        let f = self.n_features();
        for (c, &p) in self.kept_indices.iter().enumerate() {
            out[p as usize] = self.g[j * f + c];
        }
        out
    }
}

/// Either kind of decomposition.
#[derive(Debug, Clone, PartialEq)]
pub enum Decomposition {
    /// D-NPEFF.
    Diagonal(DNpeffDecomposition),
    /// LRM-NPEFF.
    LowRank(LrmNpeffDecomposition),
}

impl Decomposition {
    /// Coefficients `[n_examples, n_components]` row-major.
    pub fn w(&self) -> &[f32] {
        match self {
            Decomposition::Diagonal(d) => &d.w,
            Decomposition::LowRank(d) => &d.w,
        }
    }

    /// Number of components.
    pub fn n_components(&self) -> usize {
        match self {
            Decomposition::Diagonal(d) => d.n_components,
            Decomposition::LowRank(d) => d.n_components,
        }
    }

    /// Number of model parameters.
    pub fn n_parameters(&self) -> usize {
        match self {
            Decomposition::Diagonal(d) => d.n_parameters,
            Decomposition::LowRank(d) => d.n_parameters,
        }
    }

    /// How much component `j` weighs each model parameter (≥ 0): `H_j` for D-NPEFF, `g_j²`
    /// (the diagonal of `g_j·g_jᵀ`) for LRM-NPEFF.
    pub fn importance(&self, j: usize) -> Vec<f32> {
        match self {
            Decomposition::Diagonal(d) => d.full_component(j),
            Decomposition::LowRank(d) => d.full_component(j).iter().map(|g| g * g).collect(),
        }
    }
}
