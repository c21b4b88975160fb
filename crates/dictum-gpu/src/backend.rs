//! [`Gpu`] as a backend of the seam: which operations and precisions it runs.

use dictum_linalg::CscMatrix;
use std::ops::ControlFlow;

use dictum_linalg::backend::{
    AtomSweep, Backend, Declined, DeviceBuffer, FactorStep, Factorization, Input, Kernels, Lasso,
    Op, Pursuit, PursuitCodes, SparseProduct, Trans,
};
use faer::reborrow::ReborrowMut;
use faer::{MatMut, MatRef, Par};

use crate::buffers::{self, GpuMatrix};
use crate::device::Gpu;
use crate::gemm::check_upload;
use crate::precision::DeviceReal;

impl Backend for Gpu {
    fn name(&self) -> &str {
        &self.name
    }
}

impl Gpu {
    /// Runs `f` with the device's validation and out-of-memory errors captured: any such
    /// error turns the call into a decline (the CPU then runs it and overwrites whatever
    /// was written), instead of wgpu's default handler, which panics.
    fn guarded<R>(
        &self,
        what: &str,
        f: impl FnOnce() -> Result<R, Declined>,
    ) -> Result<R, Declined> {
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let invalid = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let out = f();
        let invalid = pollster::block_on(invalid.pop());
        let oom = pollster::block_on(oom.pop());
        match invalid.or(oom) {
            Some(e) => Err(Declined::new(format!("{what}: the device reported: {e}"))),
            None => out,
        }
    }
}

impl<T: DeviceReal> Kernels<T> for Gpu {
    fn supports(&self, op: Op) -> Result<(), Declined> {
        if T::F64 && !self.device.features().contains(wgpu::Features::SHADER_F64) {
            return Err(Declined::new(
                "the adapter has no f64 shaders (SHADER_F64); f64 runs on the CPU (f32 data runs on the GPU)",
            ));
        }
        match op {
            Op::Gemm
            | Op::Gram
            | Op::ColumnNorms
            | Op::SparseDense
            | Op::Pursuit
            | Op::Factorize
            | Op::Lasso
            | Op::OuterProducts
            | Op::AtomUpdates => Ok(()),
        }
    }

    fn upload(&self, m: MatRef<'_, T>) -> Option<DeviceBuffer> {
        // Too large or not finite: no resident copy, each call decides for itself.
        check_upload(self, m, "a resident matrix").ok()?;
        let made = self.guarded("upload", || {
            let data = buffers::packed(m);
            Ok(buffers::storage_with(&self.device, "resident", &data))
        });
        Some(DeviceBuffer::new(GpuMatrix {
            device: self.id,
            buffer: std::sync::Arc::new(made.ok()?),
            rows: m.nrows(),
            cols: m.ncols(),
        }))
    }

    fn gemm(
        &self,
        dst: MatMut<'_, T>,
        a: Input<'_, T>,
        op_a: Trans,
        b: Input<'_, T>,
        op_b: Trans,
        _par: Par,
    ) -> Result<(), Declined> {
        self.guarded("gemm", || crate::gemm::gemm(self, dst, a, op_a, b, op_b))
    }

    fn gram(&self, mut dst: MatMut<'_, T>, a: Input<'_, T>, _par: Par) -> Result<(), Declined> {
        self.guarded("gram", || {
            crate::gemm::gemm(self, dst.rb_mut(), a, Trans::Yes, a, Trans::No)
        })?;
        // Both triangles come from different tiles; copying the upper one makes the
        // result exactly symmetric, as the seam promises.
        for j in 0..dst.ncols() {
            for i in j + 1..dst.nrows() {
                dst[(i, j)] = dst[(j, i)];
            }
        }
        Ok(())
    }

    fn sparse_dense(
        &self,
        dst: MatMut<'_, T>,
        product: SparseProduct,
        x: &CscMatrix<T>,
        b: Input<'_, T>,
        _par: Par,
    ) -> Result<(), Declined> {
        self.guarded("sparse-dense", || {
            crate::sparse::sparse_dense(self, dst, product, x, b)
        })
    }

    fn outer_products(
        &self,
        dst: MatMut<'_, T>,
        u: &CscMatrix<T>,
        v: &CscMatrix<T>,
        _par: Par,
    ) -> Result<(), Declined> {
        self.guarded("outer-products", || {
            crate::outer::outer_products(self, dst, u, v)
        })
    }

    fn column_norms(&self, dst: &mut [T], a: Input<'_, T>, _par: Par) -> Result<(), Declined> {
        self.guarded("column-norms", || crate::norms::column_norms(self, dst, a))
    }

    fn pursuit(
        &self,
        job: &Pursuit<'_, T>,
        out: &mut PursuitCodes<T>,
        progress: &mut dyn FnMut(usize) -> ControlFlow<()>,
    ) -> Result<(), Declined> {
        self.guarded("pursuit", || {
            crate::pursuit::pursuit(self, job, out, progress)
        })
    }

    fn factorize(
        &self,
        job: &Factorization<'_, T>,
        w: MatMut<'_, T>,
        h: MatMut<'_, T>,
        each: &mut dyn FnMut(&FactorStep) -> ControlFlow<()>,
    ) -> Result<(), Declined> {
        self.guarded("factorize", || {
            crate::factorize::factorize(self, job, w, h, each)
        })
    }

    fn atom_updates(
        &self,
        job: &AtomSweep<'_, T>,
        dict: MatMut<'_, T>,
        values: &mut [T],
        progress: &mut dyn FnMut(usize) -> ControlFlow<()>,
    ) -> Result<(), Declined> {
        self.guarded("atom-updates", || {
            crate::atoms::atom_updates(self, job, dict, values, progress)
        })
    }

    fn lasso(
        &self,
        job: &Lasso<'_, T>,
        each: &mut dyn FnMut(usize, MatRef<'_, T>) -> ControlFlow<()>,
    ) -> Result<(), Declined> {
        self.guarded("lasso", || crate::lasso::lasso(self, job, each))
    }
}
