//! D-NPEFF: non-negative factorization of diagonal PEFs, `A ≈ W·H`, with `A` the examples ×
//! parameters matrix of D-PEFs, each row divided by its dense norm, and parameters with fewer
//! than `min_nonzero_per_parameter` entries dropped (Matena & Raffel, arXiv 2310.04649, §3).
//! `A` stays sparse throughout (see [`crate::nmf`]).

use dictum_linalg::exec::Exec;
use dictum_linalg::{CscMatrix, Mat};

use super::data::{DNpeffDecomposition, DPefs, HFactor};
use crate::error::{LearnError, Result, invalid};
use crate::fit::{Fit, Learner};
use crate::nmf::{Nmf, NmfData, NmfInit, NmfSolver};

const METHOD: &str = "d-npeff";
/// Added to each dense norm before dividing by it, as the reference does.
const NORM_EPS: f32 = 1e-9;

/// D-NPEFF parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct DNpeff {
    n_components: usize,
    max_iter: usize,
    min_nonzero_per_parameter: usize,
    l1_w: f64,
    solver: NmfSolver,
    init: NmfInit,
    tol: f64,
}

/// The normalized, reduced PEF matrix `A` and the parameter each of its columns stands for.
#[derive(Debug, Clone)]
pub struct PefMatrix {
    /// `n_examples x kept`, CSC.
    pub a: CscMatrix<f32>,
    /// Parameter index of each column.
    pub kept_indices: Vec<i32>,
}

impl DNpeff {
    /// `n_components` components by multiplicative updates (the reference's solver), 500
    /// iterations, every parameter with at least one entry kept, no L1 penalty.
    pub fn new(n_components: usize) -> Self {
        Self {
            n_components,
            max_iter: 500,
            min_nonzero_per_parameter: 1,
            l1_w: 0.0,
            solver: NmfSolver::MultiplicativeFrobenius,
            init: NmfInit::Nndsvda,
            tol: 0.0,
        }
    }

    /// Iterations.
    pub fn max_iter(mut self, n: usize) -> Self {
        self.max_iter = n;
        self
    }

    /// Drop parameters with fewer non-zero PEF entries than this over all examples.
    pub fn min_nonzero_per_parameter(mut self, n: usize) -> Self {
        self.min_nonzero_per_parameter = n;
        self
    }

    /// L1 penalty on `W` (the reference's `sparsity_W`): sparser coefficients.
    pub fn l1_w(mut self, l1: f64) -> Self {
        self.l1_w = l1;
        self
    }

    /// The NMF solver: multiplicative updates (default, as the reference) or HALS (faster).
    pub fn solver(mut self, s: NmfSolver) -> Self {
        self.solver = s;
        self
    }

    /// The NMF initialisation.
    pub fn init(mut self, i: NmfInit) -> Self {
        self.init = i;
        self
    }

    /// Stop early when the relative objective change falls below `tol` (0: never).
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        if self.n_components == 0 {
            return Err(invalid(METHOD, "n_components", 0, "at least 1"));
        }
        if self.max_iter == 0 {
            return Err(invalid(METHOD, "max_iter", 0, "at least 1"));
        }
        if !(self.l1_w >= 0.0 && self.l1_w.is_finite()) {
            return Err(invalid(METHOD, "l1_w", self.l1_w, "a number ≥ 0"));
        }
        if self.solver == NmfSolver::MultiplicativeKl {
            return Err(invalid(
                METHOD,
                "solver",
                "kl",
                "D-NPEFF minimises the Frobenius loss: multiplicative (Frobenius) or HALS",
            ));
        }
        self.nmf().validate()
    }

    fn nmf(&self) -> Nmf {
        Nmf::new(self.n_components)
            .solver(self.solver)
            .init(self.init)
            .alpha_w(self.l1_w)
            .l1_ratio(1.0)
            .max_iter(self.max_iter)
            .tol(self.tol)
    }

    /// The matrix `A` of `pefs`: rows divided by the dense norms, sparse parameters dropped.
    pub fn matrix(&self, pefs: &DPefs) -> Result<PefMatrix> {
        check_pefs(pefs)?;
        let mut count = vec![0usize; pefs.n_parameters];
        for (&i, &v) in pefs.indices.iter().zip(&pefs.values) {
            if v != 0.0 {
                count[i as usize] += 1;
            }
        }
        let min = self.min_nonzero_per_parameter.max(1);
        let kept_indices: Vec<i32> = (0..pefs.n_parameters)
            .filter(|&p| count[p] >= min)
            .map(|p| p as i32)
            .collect();
        if kept_indices.is_empty() {
            return Err(invalid(
                METHOD,
                "min_nonzero_per_parameter",
                self.min_nonzero_per_parameter,
                "no parameter has that many non-zero entries; lower it",
            ));
        }
        let a = build_matrix(pefs, &kept_indices, pefs.n_parameters)?;
        Ok(PefMatrix { a, kept_indices })
    }
}

impl<'a> Learner<&'a DPefs> for DNpeff {
    type Start = std::convert::Infallible;
    type Model = DNpeffDecomposition;

    /// Factorizes `pefs`; the history is the NMF's.
    fn fit_from(
        &self,
        pefs: &'a DPefs,
        _start: Option<std::convert::Infallible>,
        exec: &Exec<'_>,
    ) -> Result<Fit<DNpeffDecomposition>> {
        self.validate()?;
        let m = self.matrix(pefs)?;
        let (n, f) = (m.a.nrows(), m.a.ncols());
        if self.n_components > n.min(f) {
            return Err(invalid(
                METHOD,
                "n_components",
                self.n_components,
                "at most min(examples, kept parameters)",
            ));
        }
        let fit = self.nmf().fit(NmfData::Sparse(&m.a), exec)?;
        let (n_components, n_parameters) = (self.n_components, pefs.n_parameters);
        Ok(fit.map(|f| DNpeffDecomposition {
            w: row_major(&f.w),
            n_components,
            h: HFactor::Dense(row_major(&f.h)),
            kept_indices: m.kept_indices,
            n_parameters,
        }))
    }
}

fn check_pefs(pefs: &DPefs) -> Result<()> {
    if pefs.n_examples() == 0 {
        return Err(LearnError::Empty {
            method: METHOD,
            nrows: 0,
            ncols: pefs.n_parameters,
        });
    }
    if let Some(i) = pefs
        .values
        .iter()
        .position(|v| !(v.is_finite() && *v >= 0.0))
    {
        return Err(LearnError::NonFinite {
            method: METHOD,
            signal: i / pefs.nnz.max(1),
        });
    }
    Ok(())
}

/// `A` restricted to `kept` (sorted parameter indices), rows normalized.
fn build_matrix(pefs: &DPefs, kept: &[i32], n_parameters: usize) -> Result<CscMatrix<f32>> {
    let mut col_of = vec![u32::MAX; n_parameters];
    for (c, &p) in kept.iter().enumerate() {
        col_of[p as usize] = c as u32;
    }
    let n = pefs.n_examples();
    let mut col_ptr = vec![0usize; kept.len() + 1];
    for &i in &pefs.indices {
        let c = col_of[i as usize];
        if c != u32::MAX {
            col_ptr[c as usize + 1] += 1;
        }
    }
    for c in 0..kept.len() {
        col_ptr[c + 1] += col_ptr[c];
    }
    let nnz = col_ptr[kept.len()];
    let (mut rows, mut vals) = (vec![0u32; nnz], vec![0f32; nnz]);
    let mut next = col_ptr.clone();
    for e in 0..n {
        let (idx, v) = pefs.example(e);
        let scale = 1.0 / (pefs.norms[e] + NORM_EPS);
        for (&i, &x) in idx.iter().zip(v) {
            let c = col_of[i as usize];
            if c != u32::MAX {
                let at = next[c as usize];
                rows[at] = e as u32;
                vals[at] = x * scale;
                next[c as usize] += 1;
            }
        }
    }
    Ok(CscMatrix::try_new(n, kept.len(), col_ptr, rows, vals)?)
}

fn row_major(m: &Mat<f32>) -> Vec<f32> {
    let mut out = Vec::with_capacity(m.nrows() * m.ncols());
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            out.push(m[(i, j)]);
        }
    }
    out
}

/// The dense `H` of a decomposition, `n_components x n_features`.
fn dense_h(decomp: &DNpeffDecomposition) -> Mat<f32> {
    let (r, f) = (decomp.n_components, decomp.n_features());
    match &decomp.h {
        HFactor::Dense(h) => Mat::from_fn(r, f, |i, j| h[i * f + j]),
        HFactor::Sparse {
            values,
            row_offsets,
            column_indices,
        } => {
            let mut m = Mat::zeros(r, f);
            for i in 0..r {
                for k in row_offsets[i] as usize..row_offsets[i + 1] as usize {
                    m[(i, column_indices[k] as usize)] = values[k];
                }
            }
            m
        }
    }
}

/// Coefficients `W` (`[n_examples, n_components]` row-major) of new PEFs with `H` fixed:
/// non-negative least squares on the normalized PEFs over the decomposition's parameters,
/// by HALS sweeps (at most `max_iter`).
pub fn fit_coefficients(
    decomp: &DNpeffDecomposition,
    pefs: &DPefs,
    max_iter: usize,
    exec: &Exec<'_>,
) -> Result<Vec<f32>> {
    check_pefs(pefs)?;
    if pefs.n_parameters != decomp.n_parameters {
        return Err(LearnError::ShapeMismatch {
            method: METHOD,
            what: "PEFs (parameters)",
            expected: decomp.n_parameters.to_string(),
            found: pefs.n_parameters.to_string(),
        });
    }
    let a = build_matrix(pefs, &decomp.kept_indices, decomp.n_parameters)?;
    let h = dense_h(decomp);
    let w = Nmf::new(decomp.n_components)
        .max_iter(max_iter)
        .tol(1e-6)
        .transform(NmfData::Sparse(&a), h.as_ref(), exec)?;
    Ok(row_major(&w))
}

/// Which entries of `H` to keep when sparsifying.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SparsifyH {
    /// Keep at most this many entries per component (the largest).
    pub top_per_component: Option<usize>,
    /// Drop entries below this fraction of their component's largest entry.
    pub min_relative: f64,
}

/// `decomp` with `H` stored sparse (CSR), keeping the entries `rule` selects.
pub fn sparsify_h(decomp: &DNpeffDecomposition, rule: SparsifyH) -> Result<DNpeffDecomposition> {
    if !(0.0..=1.0).contains(&rule.min_relative) {
        return Err(invalid(
            METHOD,
            "min_relative",
            rule.min_relative,
            "a fraction in [0, 1]",
        ));
    }
    if rule.top_per_component == Some(0) {
        return Err(invalid(METHOD, "top_per_component", 0, "at least 1"));
    }
    let h = dense_h(decomp);
    let (r, f) = (h.nrows(), h.ncols());
    let mut values = Vec::new();
    let mut column_indices = Vec::new();
    let mut row_offsets = vec![0i64];
    for i in 0..r {
        let row: Vec<f32> = (0..f).map(|j| h[(i, j)]).collect();
        let max = row.iter().fold(0f32, |a, &b| a.max(b));
        let floor = max * rule.min_relative as f32;
        let mut keep: Vec<usize> = (0..f)
            .filter(|&j| row[j] > 0.0 && row[j] >= floor)
            .collect();
        if let Some(k) = rule.top_per_component {
            keep.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
            keep.truncate(k);
            keep.sort_unstable();
        }
        for j in keep {
            values.push(row[j]);
            column_indices.push(j as i32);
        }
        row_offsets.push(values.len() as i64);
    }
    Ok(DNpeffDecomposition {
        h: HFactor::Sparse {
            values,
            row_offsets,
            column_indices,
        },
        ..decomp.clone()
    })
}
