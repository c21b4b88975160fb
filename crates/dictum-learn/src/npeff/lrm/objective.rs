//! The LRM-NPEFF objective on prepared PEFs: one pass over the examples gives `AG_i = S_iᵀ·Gᵀ`
//! and `N`; from them the loss, the multiplicative `W` update and the gradient in `G` (the
//! formulas are in the parent module's doc).

use dictum_linalg::exec::Exec;

use super::super::data::LrmPefs;
use crate::error::Result;

const NORM_EPS: f64 = 1e-9;

/// One example's `S_i`: column pointers, rows, values, and `‖S_iᵀS_i‖²_F`.
type ExampleCsc = (Vec<usize>, Vec<u32>, Vec<f64>, f64);

/// The PEFs reduced to the kept parameters and normalized, in CSC form per example.
#[derive(Debug, Clone)]
pub(super) struct Prepared {
    /// Per example: column pointers (`rank + 1`), into `rows`/`vals` of that example.
    pub(super) ptr: Vec<Vec<usize>>,
    pub(super) rows: Vec<Vec<u32>>,
    pub(super) vals: Vec<Vec<f64>>,
    /// `‖S_iᵀS_i‖²_F` of the stored (reduced) `S_i`.
    pub(super) energy: Vec<f64>,
    pub(super) n_features: usize,
}

impl Prepared {
    pub(super) fn new(pefs: &LrmPefs, kept: &[i32], exec: &Exec<'_>) -> Self {
        let mut col_of = vec![u32::MAX; pefs.n_parameters];
        for (c, &p) in kept.iter().enumerate() {
            col_of[p as usize] = c as u32;
        }
        let starts = pefs.col_starts();
        let n = pefs.n_examples();
        let per: Vec<ExampleCsc> = exec.map(n, 16, |i| {
            let ex = pefs.example(i, &starts);
            let scale = 1.0 / (f64::from(pefs.norms[i]) + NORM_EPS).sqrt();
            let mut ptr = vec![0];
            let (mut rows, mut vals) = (Vec::new(), Vec::new());
            for c in 0..ex.col_sizes.len() {
                let (r, v) = ex.col(c);
                let mut col: Vec<(u32, f64)> = r
                    .iter()
                    .zip(v)
                    .filter(|(p, x)| col_of[**p as usize] != u32::MAX && **x != 0.0)
                    .map(|(&p, &x)| (col_of[p as usize], f64::from(x) * scale))
                    .collect();
                col.sort_unstable_by_key(|e| e.0);
                for (p, x) in col {
                    rows.push(p);
                    vals.push(x);
                }
                ptr.push(rows.len());
            }
            let rank = ptr.len() - 1;
            let mut energy = 0.0;
            for a in 0..rank {
                for b in 0..rank {
                    let d = sparse_dot(
                        &rows[ptr[a]..ptr[a + 1]],
                        &vals[ptr[a]..ptr[a + 1]],
                        &rows[ptr[b]..ptr[b + 1]],
                        &vals[ptr[b]..ptr[b + 1]],
                    );
                    energy += d * d;
                }
            }
            (ptr, rows, vals, energy)
        });
        let mut p = Prepared {
            ptr: Vec::with_capacity(n),
            rows: Vec::with_capacity(n),
            vals: Vec::with_capacity(n),
            energy: Vec::with_capacity(n),
            n_features: kept.len(),
        };
        for (a, b, c, d) in per {
            p.ptr.push(a);
            p.rows.push(b);
            p.vals.push(c);
            p.energy.push(d);
        }
        p
    }

    pub(super) fn n_examples(&self) -> usize {
        self.ptr.len()
    }
}

fn sparse_dot(ra: &[u32], va: &[f64], rb: &[u32], vb: &[f64]) -> f64 {
    let (mut i, mut j, mut s) = (0, 0, 0.0);
    while i < ra.len() && j < rb.len() {
        match ra[i].cmp(&rb[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                s += va[i] * vb[j];
                i += 1;
                j += 1;
            }
        }
    }
    s
}

/// The factorization's state: `W` (`n x r`), `G` (`r x f`), both row-major.
pub(super) struct State {
    pub(super) w: Vec<f64>,
    pub(super) g: Vec<f64>,
    pub(super) r: usize,
}

/// What one pass over the examples gives: `AG_i` for every example and `N`.
pub(super) struct Pass {
    /// Per example `rank_i x r`, row-major.
    pub(super) ag: Vec<Vec<f64>>,
    /// `n x r`.
    pub(super) n: Vec<f64>,
}

/// Examples per accumulation chunk: at most 64 chunks, so that the per-chunk `r x f`
/// partial sums stay bounded; chunks are summed in a fixed order (thread-count independent).
fn chunk_len(n: usize) -> usize {
    n.div_ceil(64).max(16)
}

impl State {
    /// Mean non-zero coefficients per example.
    pub(super) fn mean_nnz(&self) -> f64 {
        let n = self.w.len() / self.r.max(1);
        self.w.iter().filter(|&&v| v != 0.0).count() as f64 / n.max(1) as f64
    }

    /// `M = G·Gᵀ`, through the backend: `G` (row-major `r x f`) is, read column-major, the
    /// `f x r` matrix `Gᵀ`, whose Gram is `G·Gᵀ` (row- and column-major alike, being symmetric).
    pub(super) fn gram(&self, f: usize, exec: &Exec<'_>) -> Result<Vec<f64>> {
        let r = self.r;
        let gt = faer::MatRef::from_column_major_slice(&self.g, f, r);
        let m = exec.gram(gt)?;
        let mut out = vec![0.0; r * r];
        for a in 0..r {
            for b in 0..r {
                out[a * r + b] = m[(a, b)];
            }
        }
        Ok(out)
    }

    pub(super) fn pass(&self, data: &Prepared, exec: &Exec<'_>) -> Pass {
        let (r, f) = (self.r, data.n_features);
        // Gᵀ row-major (`f x r`): the r-vector of parameter p is contiguous.
        let mut gt = vec![0.0; f * r];
        for j in 0..r {
            for p in 0..f {
                gt[p * r + j] = self.g[j * f + p];
            }
        }
        let per: Vec<(Vec<f64>, Vec<f64>)> = exec.map(data.n_examples(), 16, |i| {
            let ptr = &data.ptr[i];
            let rank = ptr.len() - 1;
            let mut ag = vec![0.0; rank * r];
            let mut nrow = vec![0.0; r];
            for c in 0..rank {
                let row = &mut ag[c * r..(c + 1) * r];
                for k in ptr[c]..ptr[c + 1] {
                    let v = data.vals[i][k];
                    let g = &gt[data.rows[i][k] as usize * r..][..r];
                    for (a, &x) in row.iter_mut().zip(g) {
                        *a += v * x;
                    }
                }
                for (nj, &a) in nrow.iter_mut().zip(row.iter()) {
                    *nj += a * a;
                }
            }
            (ag, nrow)
        });
        let mut out = Pass {
            ag: Vec::with_capacity(per.len()),
            n: Vec::with_capacity(per.len() * r),
        };
        for (ag, nrow) in per {
            out.ag.push(ag);
            out.n.extend(nrow);
        }
        out
    }

    /// The loss at the current `W`, `G` (with `N` and `M` of the current `G`).
    pub(super) fn loss(&self, data: &Prepared, pass: &Pass, m: &[f64], ortho: f64) -> f64 {
        let r = self.r;
        let mut k = vec![0.0; r * r];
        for (kv, mv) in k.iter_mut().zip(m) {
            *kv = mv * mv;
        }
        let mut loss: f64 = data.energy.iter().sum();
        for i in 0..data.n_examples() {
            let w = &self.w[i * r..(i + 1) * r];
            let n = &pass.n[i * r..(i + 1) * r];
            let mut quad = 0.0;
            for a in 0..r {
                let mut s = 0.0;
                for b in 0..r {
                    s += k[a * r + b] * w[b];
                }
                quad += w[a] * s;
                loss -= 2.0 * w[a] * n[a];
            }
            loss += quad;
        }
        if ortho > 0.0 {
            let mut off = 0.0;
            for a in 0..r {
                for b in 0..r {
                    if a != b {
                        off += m[a * r + b] * m[a * r + b];
                    }
                }
            }
            loss += 0.25 * ortho * off;
        }
        loss
    }

    /// `W ← W ⊙ N ⊘ (W·(M∘M) + ε)`, rows `rows` only (frozen rows stay).
    pub(super) fn update_w(&mut self, pass: &Pass, m: &[f64], eps: f64, exec: &Exec<'_>) {
        let r = self.r;
        let k: Vec<f64> = m.iter().map(|v| v * v).collect();
        exec.for_each_chunk(&mut self.w, r, |i, w| {
            let n = &pass.n[i * r..(i + 1) * r];
            let mut den = vec![0.0; r];
            for a in 0..r {
                den[a] = (0..r).map(|b| w[b] * k[b * r + a]).sum::<f64>() + eps;
            }
            for a in 0..r {
                w[a] *= n[a] / den[a];
            }
        });
    }

    /// The gradient of the loss in `G` (`r x f`), regularizer included.
    pub(super) fn grad_g(
        &self,
        data: &Prepared,
        pass: &Pass,
        m: &[f64],
        ortho: f64,
        exec: &Exec<'_>,
    ) -> Vec<f64> {
        let (r, f, n) = (self.r, data.n_features, data.n_examples());
        let len = chunk_len(n);
        // B = Σ_i diag(w_i)·AG_iᵀ·S_iᵀ, accumulated transposed (`f x r`).
        let parts: Vec<Vec<f64>> = exec.map(n.div_ceil(len), 1, |c| {
            let mut bt = vec![0.0; f * r];
            for i in c * len..((c + 1) * len).min(n) {
                let ptr = &data.ptr[i];
                let w = &self.w[i * r..(i + 1) * r];
                for c in 0..ptr.len() - 1 {
                    let ag = &pass.ag[i][c * r..(c + 1) * r];
                    for k in ptr[c]..ptr[c + 1] {
                        let v = data.vals[i][k];
                        let dst = &mut bt[data.rows[i][k] as usize * r..][..r];
                        for j in 0..r {
                            dst[j] += v * w[j] * ag[j];
                        }
                    }
                }
            }
            bt
        });
        let mut bt = vec![0.0; f * r];
        for p in parts {
            for (a, b) in bt.iter_mut().zip(p) {
                *a += b;
            }
        }
        // C = (WᵀW)∘M (+ ¼λ·4·offdiag(M)/4 folded as λ/4 below).
        let mut wtw = vec![0.0; r * r];
        for row in self.w.chunks(r) {
            for a in 0..r {
                for b in 0..r {
                    wtw[a * r + b] += row[a] * row[b];
                }
            }
        }
        let mut c = vec![0.0; r * r];
        for a in 0..r {
            for b in 0..r {
                let mut v = 4.0 * wtw[a * r + b] * m[a * r + b];
                if ortho > 0.0 && a != b {
                    v += ortho * m[a * r + b];
                }
                c[a * r + b] = v;
            }
        }
        let mut grad = vec![0.0; r * f];
        for a in 0..r {
            let out = &mut grad[a * f..(a + 1) * f];
            for b in 0..r {
                let cab = c[a * r + b];
                if cab != 0.0 {
                    for (o, &g) in out.iter_mut().zip(&self.g[b * f..(b + 1) * f]) {
                        *o += cab * g;
                    }
                }
            }
            for p in 0..f {
                out[p] -= 4.0 * bt[p * r + a];
            }
        }
        grad
    }
}
