//! The backend seam: the short list of heavy operations dictum's algorithms run, behind a
//! device trait, with the CPU implementation ([`Cpu`]) that is always there.
//!
//! Every algorithm reaches these operations through its `Exec` (the execution context, module
//! `exec`), never by calling a kernel directly:
//!
//! | [`Op`] | what | used by |
//! |---|---|---|
//! | [`Op::Gemm`] | `C = op(A)·op(B)`, `op` = identity or transpose | `Dᵀ·Y` of every coder, FISTA's `G·Z`, online learning, k-means, NMF |
//! | [`Op::Gram`] | `C = Aᵀ·A` | a dictionary's Gram matrix, NMF's `WᵀW`, `HHᵀ` |
//! | [`Op::SparseDense`] | `D·X`, `X·B`, `Xᵀ·B` with `X` sparse (CSC) | reconstruction, NMF on sparse data |
//! | [`Op::OuterProducts`] | `C += U·Vᵀ` with `U`, `V` sparse | the SMT's `A·Aᵀ` and `A·L·Aᵀ` sums |
//! | [`Op::ColumnNorms`] | `‖a_j‖₂` of every column | normalization |
//! | [`Op::Pursuit`] | Batch-OMP/ORMP of many signals, whole ([`Pursuit`]) | OMP and ORMP on a device |
//! | [`Op::Factorize`] | NMF's iterations, whole ([`Factorization`]) | NMF on a device |
//! | [`Op::Lasso`] | FISTA/ISTA iterations of many signals, whole ([`Lasso`]) | FISTA and ISTA on a device |
//! | [`Op::AtomUpdates`] | a sweep of K-SVD's atom updates, whole ([`AtomSweep`]) | batched K-SVD on a device |
//!
//! A backend implements [`Kernels<T>`] for `f32` and `f64` and says, per operation and
//! precision, whether it runs it ([`Kernels::supports`]); an operation it does not support,
//! or declines for one call (a shape too large for a device binding), runs on the CPU
//! instead and the context reports why (an `Event::Fallback` to its observer),
//! as RustFFT's planner falls back from AVX to scalar code. A backend must not write to the
//! destination of a call it declines.
//!
//! **Resident data.** A matrix used by many calls — a dictionary and its Gram matrix, read
//! by every block of an encode — is uploaded once with `Exec::resident`; the [`Resident`]
//! carries the backend's
//! copy ([`DeviceBuffer`]) beside the host view, and every call that takes it as an
//! [`Input`] can use that copy instead of uploading again. The CPU keeps no copy.
//!
//! **Fused operations.** [`Op::Pursuit`], [`Op::Factorize`], [`Op::Lasso`] and
//! [`Op::AtomUpdates`] are whole algorithm steps rather than a product:
//! a device runs it end to end so that only its small result crosses back. The CPU backend
//! does not run fused operations; the algorithm's own CPU kernel is their fallback, and the
//! context answers [`Offloaded::OnCpu`] to say so.
//!
//! **Where a GPU goes.** `dictum-gpu` implements [`Backend`] for its device: one method of
//! [`Kernels`] per operation, a shader per kernel. Nothing above this module changes.

use std::ops::ControlFlow;

use faer::{MatMut, MatRef, Par};

use crate::csc::CscMatrix;
use crate::real::{ByPrecision, Real};

pub use crate::atoms::AtomSweep;
pub use crate::factorization::{FactorData, FactorRule, FactorStep, Factorization};
pub use crate::lasso::Lasso;
pub use crate::operand::{DeviceBuffer, Input, Resident};
pub use crate::pursuit::{Offloaded, Pursuit, PursuitCodes, PursuitRule};

/// The heavy operations of the seam (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// Dense products `op(A)·op(B)`.
    Gemm,
    /// Gram matrices `Aᵀ·A`.
    Gram,
    /// Products of a sparse (CSC) and a dense matrix.
    SparseDense,
    /// Sums of outer products of sparse columns, `C += U·Vᵀ`.
    OuterProducts,
    /// Euclidean norms of columns.
    ColumnNorms,
    /// Greedy sparse coding of many signals (Batch-OMP/ORMP), fused: see [`Pursuit`]. The
    /// CPU backend leaves it to the coder's own kernel.
    Pursuit,
    /// Non-negative matrix factorization's iterations, fused: see [`Factorization`]. The
    /// CPU backend leaves them to the NMF solver's own loop.
    Factorize,
    /// LASSO by FISTA or ISTA for many signals, fused: see [`Lasso`]. The CPU backend leaves
    /// it to the coder's own blocks.
    Lasso,
    /// K-SVD's atom updates for fixed supports, fused: see [`AtomSweep`]. The CPU backend
    /// leaves them to the learner's own sweep.
    AtomUpdates,
}

impl Op {
    /// Every operation, in the order of the module table.
    pub const ALL: [Op; 9] = [
        Op::Gemm,
        Op::Gram,
        Op::SparseDense,
        Op::OuterProducts,
        Op::ColumnNorms,
        Op::Pursuit,
        Op::Factorize,
        Op::Lasso,
        Op::AtomUpdates,
    ];

    /// Whether the operation is a whole algorithm step that the CPU backend does not run:
    /// the algorithm's own CPU kernel is its fallback ([`Offloaded::OnCpu`]).
    pub fn is_fused(self) -> bool {
        matches!(
            self,
            Op::Pursuit | Op::Factorize | Op::Lasso | Op::AtomUpdates
        )
    }

    /// A short name: `gemm`, `gram`, `sparse-dense`, `outer-products`, `column-norms`,
    /// `pursuit`, `factorize`, `lasso`, `atom-updates`.
    pub fn name(self) -> &'static str {
        match self {
            Op::Gemm => "gemm",
            Op::Gram => "gram",
            Op::SparseDense => "sparse-dense",
            Op::OuterProducts => "outer-products",
            Op::ColumnNorms => "column-norms",
            Op::Pursuit => "pursuit",
            Op::Factorize => "factorize",
            Op::Lasso => "lasso",
            Op::AtomUpdates => "atom-updates",
        }
    }
}

impl core::fmt::Display for Op {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether an operand enters a product as it is or transposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trans {
    /// `A`.
    No,
    /// `Aᵀ`.
    Yes,
}

impl Trans {
    /// The view `op(a)`.
    pub fn apply<T>(self, a: MatRef<'_, T>) -> MatRef<'_, T> {
        match self {
            Trans::No => a,
            Trans::Yes => a.transpose(),
        }
    }
}

/// Which product of a sparse `X` and a dense `B` (or `A`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SparseProduct {
    /// `C = A·X` (dense `A` on the left; with `A = D`, the reconstruction `D·X`).
    DenseTimesSparse,
    /// `C = X·B`.
    SparseTimesDense,
    /// `C = Xᵀ·B` (with `X = V` sparse data, NMF's `Vᵀ·W`).
    SparseTransposeTimesDense,
}

/// Why a backend does not run an operation: said once to the context's observer, then the
/// CPU runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declined(pub String);

impl Declined {
    /// A reason, as the log will show it.
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}

impl core::fmt::Display for Declined {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A backend's kernels for one precision. Shapes are checked by the context before a call;
/// every method may decline (nothing written) and the CPU then runs it. The defaults decline,
/// so a backend implements what it accelerates and nothing else.
pub trait Kernels<T>: Sync {
    /// Whether this backend runs `op` in this precision at all (`Err` says why not).
    fn supports(&self, op: Op) -> Result<(), Declined>;

    /// Makes the backend's copy of `m` for [`Resident`] use; `None` keeps none (the CPU).
    fn upload(&self, m: MatRef<'_, T>) -> Option<DeviceBuffer> {
        let _ = m;
        None
    }

    /// `dst = op_a(a)·op_b(b)`.
    fn gemm(
        &self,
        dst: MatMut<'_, T>,
        a: Input<'_, T>,
        op_a: Trans,
        b: Input<'_, T>,
        op_b: Trans,
        par: Par,
    ) -> Result<(), Declined> {
        let _ = (dst, a, op_a, b, op_b, par);
        Err(Declined::new("gemm is not implemented"))
    }

    /// `dst = aᵀ·a`, exactly symmetric.
    fn gram(&self, dst: MatMut<'_, T>, a: Input<'_, T>, par: Par) -> Result<(), Declined> {
        let _ = (dst, a, par);
        Err(Declined::new("gram is not implemented"))
    }

    /// `dst = product(x, b)` (see [`SparseProduct`]).
    fn sparse_dense(
        &self,
        dst: MatMut<'_, T>,
        product: SparseProduct,
        x: &CscMatrix<T>,
        b: Input<'_, T>,
        par: Par,
    ) -> Result<(), Declined> {
        let _ = (dst, product, x, b, par);
        Err(Declined::new("sparse-dense products are not implemented"))
    }

    /// `dst += u·vᵀ` for sparse `u` and `v` with as many columns; each entry of `dst` adds
    /// its terms in column order (so the sum is the same however the work is split).
    fn outer_products(
        &self,
        dst: MatMut<'_, T>,
        u: &CscMatrix<T>,
        v: &CscMatrix<T>,
        par: Par,
    ) -> Result<(), Declined> {
        let _ = (dst, u, v, par);
        Err(Declined::new("outer products are not implemented"))
    }

    /// `dst[j] = ‖a_j‖₂` for every column `j` of `a`.
    fn column_norms(&self, dst: &mut [T], a: Input<'_, T>, par: Par) -> Result<(), Declined> {
        let _ = (dst, a, par);
        Err(Declined::new("column norms are not implemented"))
    }

    /// Codes every signal of `job` into `out` (made by `PursuitCodes::empty` for
    /// `job.signals.ncols()` signals), calling `progress(done)` with the signals finished so
    /// far; when it breaks, stops early (what `out` then holds is discarded).
    fn pursuit(
        &self,
        job: &Pursuit<'_, T>,
        out: &mut PursuitCodes<T>,
        progress: &mut dyn FnMut(usize) -> ControlFlow<()>,
    ) -> Result<(), Declined> {
        let _ = (job, out, progress);
        Err(Declined::new("pursuit is not implemented"))
    }

    /// Runs the iterations of `job` from the factors in `w` (`n x r`) and `h` (`r x p`),
    /// calling `each` after every iteration with what it measured; stops after `max_iter`
    /// iterations or when `each` breaks, and then writes the factors of the last iteration
    /// measured into `w` and `h`. A backend declines before the first iteration (nothing
    /// written, `each` never called), or else finishes.
    fn factorize(
        &self,
        job: &Factorization<'_, T>,
        w: MatMut<'_, T>,
        h: MatMut<'_, T>,
        each: &mut dyn FnMut(&FactorStep) -> ControlFlow<()>,
    ) -> Result<(), Declined> {
        let _ = (job, w, h, each);
        Err(Declined::new("factorize is not implemented"))
    }

    /// Runs `job`, handing the codes to `each` chunk by chunk as dense `m x len` blocks
    /// with the index of their first signal, in order; stops when `each` breaks.
    fn lasso(
        &self,
        job: &Lasso<'_, T>,
        each: &mut dyn FnMut(usize, MatRef<'_, T>) -> ControlFlow<()>,
    ) -> Result<(), Declined> {
        let _ = (job, each);
        Err(Declined::new("lasso is not implemented"))
    }

    /// Runs the sweep `job` on the dictionary `dict` (`d x m`, unit-norm columns) and the
    /// code values `values` (`job.codes`' values, in its order), updating both; calls
    /// `progress(done)` with the atoms done after each batch and stops early when it breaks
    /// (what `dict` and `values` then hold is discarded). A backend declines before it
    /// writes anything.
    fn atom_updates(
        &self,
        job: &AtomSweep<'_, T>,
        dict: MatMut<'_, T>,
        values: &mut [T],
        progress: &mut dyn FnMut(usize) -> ControlFlow<()>,
    ) -> Result<(), Declined> {
        let _ = (job, dict, values, progress);
        Err(Declined::new("atom updates are not implemented"))
    }
}

/// A compute backend: [`Kernels`] in both precisions, and a name for reports.
pub trait Backend: Kernels<f32> + Kernels<f64> + Send + Sync {
    /// A short name for logs (`"cpu"`, `"vulkan: NVIDIA H200"`, …).
    fn name(&self) -> &str;

    /// Whether this is the CPU, whose fused operations ([`Op::is_fused`]) are the
    /// algorithms' own kernels: asking it is no fallback.
    fn is_cpu(&self) -> bool {
        false
    }
}

/// The backends' kernels as a family over the precisions.
struct KernelsOf;

impl ByPrecision for KernelsOf {
    type Member<T: 'static> = dyn Kernels<T>;
}

/// The kernels of `backend` for `T`.
pub(crate) fn kernels_of<'a, T: Real>(backend: &'a (dyn Backend + 'static)) -> &'a dyn Kernels<T> {
    crate::real::select::<T, KernelsOf>(backend, backend)
}

/// The CPU: faer's GEMM and dictum's own sparse kernels, every operation in both precisions.
/// It is the default backend and the one every fallback runs on.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cpu;

/// The CPU backend as a `'static` reference, the default of every context.
pub static CPU: Cpu = Cpu;

impl Backend for Cpu {
    fn name(&self) -> &str {
        "cpu"
    }

    fn is_cpu(&self) -> bool {
        true
    }
}

impl<T: Real> Kernels<T> for Cpu {
    fn supports(&self, op: Op) -> Result<(), Declined> {
        if op.is_fused() {
            return Err(Declined::new(format!(
                "{op} runs in the algorithm's own CPU kernel"
            )));
        }
        Ok(())
    }

    fn gemm(
        &self,
        dst: MatMut<'_, T>,
        a: Input<'_, T>,
        op_a: Trans,
        b: Input<'_, T>,
        op_b: Trans,
        par: Par,
    ) -> Result<(), Declined> {
        crate::gemm::product_into(dst, op_a.apply(a.view()), op_b.apply(b.view()), par);
        Ok(())
    }

    fn gram(&self, dst: MatMut<'_, T>, a: Input<'_, T>, par: Par) -> Result<(), Declined> {
        crate::gemm::gram_unchecked(dst, a.view(), par);
        Ok(())
    }

    fn sparse_dense(
        &self,
        dst: MatMut<'_, T>,
        product: SparseProduct,
        x: &CscMatrix<T>,
        b: Input<'_, T>,
        par: Par,
    ) -> Result<(), Declined> {
        match product {
            SparseProduct::DenseTimesSparse => x.dense_mul_unchecked(dst, b.view(), par),
            SparseProduct::SparseTimesDense => x.mul_dense_unchecked(dst, b.view(), par),
            SparseProduct::SparseTransposeTimesDense => {
                x.transpose_mul_dense_unchecked(dst, b.view(), par)
            }
        }
        Ok(())
    }

    fn outer_products(
        &self,
        dst: MatMut<'_, T>,
        u: &CscMatrix<T>,
        v: &CscMatrix<T>,
        par: Par,
    ) -> Result<(), Declined> {
        crate::csc::add_outer_products(dst, u, v, par);
        Ok(())
    }

    fn column_norms(&self, dst: &mut [T], a: Input<'_, T>, par: Par) -> Result<(), Declined> {
        crate::norms::column_norms_into(dst, a.view(), par);
        Ok(())
    }
}
