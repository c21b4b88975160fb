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

impl Backend for Gpu {
    fn name(&self) -> &str {
        &self.name
    }
}

impl Kernels<f32> for Gpu {
    fn supports(&self, op: Op) -> Result<(), Declined> {
        match op {
            Op::Gemm | Op::Gram | Op::ColumnNorms | Op::SparseDense => Ok(()),
            Op::OuterProducts => Err(Declined::new(format!(
                "{op} has no GPU kernel yet; it runs on the CPU"
            ))),
        }
    }

    fn upload(&self, m: MatRef<'_, f32>) -> Option<DeviceBuffer> {
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
        dst: MatMut<'_, f32>,
        a: Input<'_, f32>,
        op_a: Trans,
        b: Input<'_, f32>,
        op_b: Trans,
        _par: Par,
    ) -> Result<(), Declined> {
        crate::gemm::gemm(self, dst, a, op_a, b, op_b)
    }

    fn gram(&self, mut dst: MatMut<'_, f32>, a: Input<'_, f32>, _par: Par) -> Result<(), Declined> {
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
        dst: MatMut<'_, f32>,
        product: SparseProduct,
        x: &CscMatrix<f32>,
        b: Input<'_, f32>,
        _par: Par,
    ) -> Result<(), Declined> {
        crate::sparse::sparse_dense(self, dst, product, x, b)
    }

    fn column_norms(&self, dst: &mut [f32], a: Input<'_, f32>, _par: Par) -> Result<(), Declined> {
        crate::norms::column_norms(self, dst, a)
    }
}

impl Kernels<f64> for Gpu {
    fn supports(&self, _op: Op) -> Result<(), Declined> {
        Err(Declined::new(
            "the GPU kernels compute in f32; f64 runs on the CPU (use f32 data for the GPU)",
        ))
    }
}
