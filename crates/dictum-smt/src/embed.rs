//! The SMT embedding (Chen, Paiton & Olshausen 2018, eq. 4): with codes `A` (`m x N`) and the
//! differential operator `D`, find `P` (`f x m`) minimising `‖P·A·D‖²_F` subject to
//! `P·V·Pᵀ = I`, `V = A·Aᵀ/N`: the smallest generalized eigenpairs of
//! `(A·D·Dᵀ·Aᵀ)·u = λ·V·u`.
//!
//! [`Covariances`] accumulates `A·Aᵀ` and `A·D·Dᵀ·Aᵀ` (`m x m`) group by group from sparse
//! codes, so `A` is never stored; the accumulation is the backend seam's outer-product sums
//! (on the CPU in parallel over blocks of the matrices, no per-thread copies of an `m x m`
//! matrix), and every entry is summed in the same order whatever the thread count.

use dictum_linalg::exec::Exec;
use dictum_linalg::norms::normalize_columns;
use dictum_linalg::{CscMatrix, Mat, MatMut, MatRef, Real, eigen};

use crate::error::{Result, SmtError, invalid};
use crate::operator::DifferentialOperator;

/// A sparse vector: sorted indices and values.
type Sparse = (Vec<u32>, Vec<f64>);

/// Running sums of `A·Aᵀ` and `A·D·Dᵀ·Aᵀ`.
#[derive(Debug, Clone)]
pub struct Covariances {
    m: usize,
    /// `Σ α·αᵀ`, `m x m` row-major.
    aat: Vec<f64>,
    /// `Σ δ·δᵀ` over the columns `δ = A·d` of `A·D`.
    cost: Vec<f64>,
    codes: usize,
    terms: usize,
}

/// `Σ coef·α_index` as a sparse vector.
fn combine<T: Real>(codes: &CscMatrix<T>, first: usize, term: &[(usize, f64)]) -> Sparse {
    let mut e: Vec<(u32, f64)> = Vec::new();
    for &(k, w) in term {
        let (r, v) = codes.col(first + k);
        e.extend(r.iter().zip(v).map(|(&i, &x)| (i, w * x.into_f64())));
    }
    e.sort_by_key(|p| p.0);
    let mut out: Sparse = (Vec::with_capacity(e.len()), Vec::with_capacity(e.len()));
    for (i, x) in e {
        if out.0.last() == Some(&i) {
            if let Some(l) = out.1.last_mut() {
                *l += x;
            }
        } else {
            out.0.push(i);
            out.1.push(x);
        }
    }
    out
}

/// The columns `cols` as an `m`-row CSC matrix (each sorted, without repeats).
fn csc_of(m: usize, cols: Vec<Sparse>) -> Result<CscMatrix<f64>> {
    let mut col_ptr = Vec::with_capacity(cols.len() + 1);
    col_ptr.push(0);
    let (mut rows, mut vals) = (Vec::new(), Vec::new());
    for (r, v) in cols {
        rows.extend(r);
        vals.extend(v);
        col_ptr.push(rows.len());
    }
    Ok(CscMatrix::try_new(
        m,
        col_ptr.len() - 1,
        col_ptr,
        rows,
        vals,
    )?)
}

/// `L = D·Dᵀ` of one group from the operator's terms, by rows: `A·D·Dᵀ·Aᵀ = A·L·Aᵀ`, and
/// `L` is narrow (neighbours of neighbours), so `Σ_p α_p·(Σ_q L_pq·α_q)ᵀ` touches far fewer
/// entries than `Σ_t δ_t·δ_tᵀ` (each `δ_t` mixes a whole neighbourhood).
fn laplacian(terms: &[Vec<(usize, f64)>], n: usize) -> Vec<Vec<(usize, f64)>> {
    let mut rows: Vec<std::collections::BTreeMap<usize, f64>> = vec![Default::default(); n];
    for t in terms {
        for &(a, wa) in t {
            for &(b, wb) in t {
                *rows[a].entry(b).or_insert(0.0) += wa * wb;
            }
        }
    }
    rows.into_iter()
        .map(|r| r.into_iter().filter(|e| e.1 != 0.0).collect())
        .collect()
}

impl Covariances {
    /// Empty sums for `m` atoms (`2·m²` doubles of memory).
    pub fn new(m: usize) -> Result<Self> {
        if m == 0 {
            return Err(invalid("atoms", 0, "at least 1"));
        }
        Ok(Self {
            m,
            aat: vec![0.0; m * m],
            cost: vec![0.0; m * m],
            codes: 0,
            terms: 0,
        })
    }

    /// Atoms.
    pub fn n_atoms(&self) -> usize {
        self.m
    }

    /// Codes added (`N`).
    pub fn n_codes(&self) -> usize {
        self.codes
    }

    /// Columns of `D` seen.
    pub fn n_terms(&self) -> usize {
        self.terms
    }

    /// `Σ α·αᵀ` (not divided by `N`), row-major.
    pub fn aat(&self) -> &[f64] {
        &self.aat
    }

    /// `A·D·Dᵀ·Aᵀ`, row-major.
    pub fn cost(&self) -> &[f64] {
        &self.cost
    }

    /// Adds groups of `group_len` consecutive columns of `codes` (`m x (groups·group_len)`),
    /// each group one sequence or one image, `op` applied within each group.
    pub fn add_groups<T: Real>(
        &mut self,
        codes: &CscMatrix<T>,
        group_len: usize,
        op: &DifferentialOperator,
        exec: &Exec<'_>,
    ) -> Result<()> {
        if codes.nrows() != self.m {
            return Err(SmtError::ShapeMismatch {
                what: "codes",
                expected: format!("{} rows (atoms)", self.m),
                found: format!("{} rows", codes.nrows()),
            });
        }
        if group_len == 0 || !codes.ncols().is_multiple_of(group_len) {
            return Err(SmtError::ShapeMismatch {
                what: "codes (groups)",
                expected: format!("a multiple of the group length {group_len}"),
                found: format!("{} codes", codes.ncols()),
            });
        }
        if let Some(g) = op.group_len()
            && g != group_len
        {
            return Err(SmtError::ShapeMismatch {
                what: "group length",
                expected: format!("{g} (the operator's patch grid)"),
                found: group_len.to_string(),
            });
        }
        if let Some(k) = codes.values().iter().position(|v| !v.is_finite()) {
            return Err(SmtError::NonFinite {
                what: "code entry",
                index: k,
            });
        }
        let terms = op.terms(group_len);
        let lap = laplacian(&terms, group_len);
        let groups = codes.ncols() / group_len;
        let (col_ptr, rows) = (codes.col_ptr().to_vec(), codes.row_indices().to_vec());
        let vals = codes.values().iter().map(|x| x.into_f64()).collect();
        let alphas = CscMatrix::try_new(self.m, codes.ncols(), col_ptr, rows, vals)?;
        // Σ_q L_pq·α_q for every code α_p: C gets α_p·(Σ_q L_pq·α_q)ᵀ.
        let mixed = |j: usize| combine(codes, (j / group_len) * group_len, &lap[j % group_len]);
        let ys = csc_of(self.m, exec.map(codes.ncols(), 1, mixed))?;
        // The sums are row-major: as column-major matrices they are their transposes, so
        // Σ α·yᵀ is added as Σ y·αᵀ.
        let m = self.m;
        exec.outer_products(
            MatMut::from_column_major_slice_mut(&mut self.aat, m, m),
            &alphas,
            &alphas,
        )?;
        exec.outer_products(
            MatMut::from_column_major_slice_mut(&mut self.cost, m, m),
            &ys,
            &alphas,
        )?;
        self.codes += codes.ncols();
        self.terms += terms.len() * groups;
        Ok(())
    }
}

/// How the generalized eigenproblem is solved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EigenSolver {
    /// Dense for up to 2048 used atoms, subspace iteration above.
    #[default]
    Auto,
    /// The full dense reduction (`O(m³)` with a large constant; every eigenpair).
    Dense,
    /// Shift-and-invert subspace iteration for the wanted pairs only (one Cholesky
    /// factorisation and block products; about a third of the dense cost at `m` = 16 384).
    Subspace,
}

/// SMT embedding parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct SmtEmbedding {
    dims: usize,
    drop: usize,
    ridge: f64,
    solver: EigenSolver,
}

/// A fitted embedding `β = P·α`.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding {
    /// `P`, `dims x m` (zero columns for atoms no code used).
    pub p: Mat<f64>,
    /// The generalized eigenvalues of the kept directions, ascending.
    pub eigenvalues: Vec<f64>,
}

impl SmtEmbedding {
    /// `dims` dimensions after dropping the smallest (trivial) direction, ridge `1e-8`
    /// relative to the mean of `diag(V)`.
    pub fn new(dims: usize) -> Self {
        Self {
            dims,
            drop: 1,
            ridge: 1e-8,
            solver: EigenSolver::Auto,
        }
    }

    /// The eigensolver.
    pub fn solver(mut self, s: EigenSolver) -> Self {
        self.solver = s;
        self
    }

    /// How many of the smallest directions to drop first (1: the constant direction of codes
    /// that sum to one; the ICLR paper drops more for colour images).
    pub fn drop_first(mut self, j: usize) -> Self {
        self.drop = j;
        self
    }

    /// Ridge added to `V`, relative to the mean of its diagonal.
    pub fn ridge(mut self, r: f64) -> Self {
        self.ridge = r;
        self
    }

    /// Checks the parameters against `m` atoms.
    pub fn validate(&self, m: usize) -> Result<()> {
        if self.dims == 0 {
            return Err(invalid("dims", 0, "at least 1"));
        }
        if self.dims + self.drop >= m {
            return Err(invalid(
                "dims",
                self.dims,
                "dims + dropped directions must be fewer than the atoms",
            ));
        }
        if !(self.ridge >= 0.0 && self.ridge.is_finite()) {
            return Err(invalid("ridge", self.ridge, "a number ≥ 0"));
        }
        Ok(())
    }

    /// Solves for `P` from accumulated sums (copies them; see
    /// [`fit_owned`](Self::fit_owned) to reuse their memory).
    pub fn fit(&self, cov: &Covariances, exec: &Exec<'_>) -> Result<Embedding> {
        self.fit_owned(cov.clone(), exec)
    }

    /// Solves for `P`, turning the sums' own buffers into the eigenproblem's matrices (at
    /// `m` = 16 384 each is 2 GiB).
    pub fn fit_owned(&self, cov: Covariances, exec: &Exec<'_>) -> Result<Embedding> {
        let par = exec.par();
        let m = cov.n_atoms();
        self.validate(m)?;
        if cov.n_codes() == 0 || cov.n_terms() == 0 {
            return Err(SmtError::Empty {
                what: "codes (and differential terms)",
            });
        }
        // Atoms no code used have zero rows in both matrices: leave them out (they would
        // be spurious zero eigenvalues), with zero columns in P.
        let used: Vec<usize> = (0..m).filter(|&i| cov.aat[i * m + i] > 0.0).collect();
        let u = used.len();
        if self.dims + self.drop >= u {
            return Err(invalid(
                "dims",
                self.dims,
                "dims + dropped directions must be fewer than the atoms the codes use",
            ));
        }
        let (n, t) = (cov.n_codes() as f64, cov.n_terms() as f64);
        let mean_diag = used.iter().map(|&i| cov.aat[i * m + i]).sum::<f64>() / (u as f64 * n);
        let eps = self.ridge * mean_diag;
        // V = AAᵀ/N + ε·I and C = ADDᵀAᵀ/T over the used atoms, in place when all are used
        // (symmetric: row-major storage is column-major storage).
        let restrict = |buf: Vec<f64>, scale: f64, ridge: f64| -> Vec<f64> {
            let mut out = if u == m {
                buf
            } else {
                let mut o = Vec::with_capacity(u * u);
                for &i in &used {
                    for &j in &used {
                        o.push(buf[i * m + j]);
                    }
                }
                o
            };
            for x in out.iter_mut() {
                *x *= scale;
            }
            for i in 0..u {
                out[i * u + i] += ridge;
            }
            out
        };
        let Covariances { aat, cost, .. } = cov;
        let v = restrict(aat, 1.0 / n, eps);
        let c = restrict(cost, 1.0 / t, 0.0);
        let vr = MatRef::from_column_major_slice(&v, u, u);
        let cr = MatRef::from_column_major_slice(&c, u, u);
        let want = self.drop + self.dims;
        let dense = match self.solver {
            EigenSolver::Dense => true,
            EigenSolver::Subspace => false,
            EigenSolver::Auto => u <= 2048,
        };
        let e = if dense {
            eigen::generalized_symmetric_eigen(cr, vr, par)?
        } else {
            eigen::smallest_generalized_eigen(cr, vr, want, eigen::SubspaceOptions::default(), par)?
        };
        let keep = self.drop..want;
        let mut p = Mat::<f64>::zeros(self.dims, m);
        for (row, k) in keep.clone().enumerate() {
            for (a, &i) in used.iter().enumerate() {
                p[(row, i)] = e.vectors[(a, k)];
            }
        }
        Ok(Embedding {
            p,
            eigenvalues: e.values[keep].to_vec(),
        })
    }
}

impl Embedding {
    /// Embedding dimensions.
    pub fn dims(&self) -> usize {
        self.p.nrows()
    }

    /// `β = P·α` for every column of `codes` (`dims x N`), each scaled to unit norm when
    /// `normalize` (zero stays zero).
    pub fn transform<T: Real>(&self, codes: &CscMatrix<T>, normalize: bool) -> Result<Mat<f64>> {
        if codes.nrows() != self.p.ncols() {
            return Err(SmtError::ShapeMismatch {
                what: "codes",
                expected: format!("{} rows (atoms)", self.p.ncols()),
                found: format!("{} rows", codes.nrows()),
            });
        }
        let f = self.dims();
        let mut out = Mat::<f64>::zeros(f, codes.ncols());
        for j in 0..codes.ncols() {
            let (r, v) = codes.col(j);
            for (&i, &x) in r.iter().zip(v) {
                let x = x.into_f64();
                for k in 0..f {
                    out[(k, j)] += x * self.p[(k, i as usize)];
                }
            }
        }
        if normalize {
            // Zero columns are reported and left zero.
            normalize_columns(out.as_mut());
        }
        Ok(out)
    }
}
