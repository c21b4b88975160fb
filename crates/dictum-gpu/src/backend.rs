//! [`Gpu`] as a backend of the seam: which operations and precisions it runs.

use dictum_linalg::CscMatrix;
use dictum_linalg::backend::{
    Backend, Declined, DeviceBuffer, Input, Kernels, Op, SparseProduct, Trans,
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

impl<T: DeviceReal> Kernels<T> for Gpu {
    fn supports(&self, op: Op) -> Result<(), Declined> {
        if T::F64 && !self.device.features().contains(wgpu::Features::SHADER_F64) {
            return Err(Declined::new(
                "the adapter has no f64 shaders (SHADER_F64); f64 runs on the CPU (f32 data runs on the GPU)",
            ));
        }
        match op {
            Op::Gemm | Op::Gram | Op::ColumnNorms | Op::SparseDense => Ok(()),
            Op::OuterProducts => Err(Declined::new(format!(
                "{op} has no GPU kernel yet; it runs on the CPU"
            ))),
        }
    }

    fn upload(&self, m: MatRef<'_, T>) -> Option<DeviceBuffer> {
        // Too large or not finite: no resident copy, each call decides for itself.
        check_upload(self, m, "a resident matrix").ok()?;
        let data = buffers::packed(m);
        let buffer = buffers::storage_with(&self.device, "resident", &data);
        Some(DeviceBuffer::new(GpuMatrix {
            device: self.id,
            buffer: std::sync::Arc::new(buffer),
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
        crate::gemm::gemm(self, dst, a, op_a, b, op_b)
    }

    fn gram(&self, mut dst: MatMut<'_, T>, a: Input<'_, T>, _par: Par) -> Result<(), Declined> {
        crate::gemm::gemm(self, dst.rb_mut(), a, Trans::Yes, a, Trans::No)?;
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
        crate::sparse::sparse_dense(self, dst, product, x, b)
    }

    fn column_norms(&self, dst: &mut [T], a: Input<'_, T>, _par: Par) -> Result<(), Declined> {
        crate::norms::column_norms(self, dst, a)
    }
}
