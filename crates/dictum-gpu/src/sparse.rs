//! Sparse (CSC) times dense products on the device: `A·X` (`kernels/dense_times_sparse.wgsl`),
//! `Xᵀ·B` and `X·B` (`kernels/sparse_t_times_dense.wgsl`, the latter on the CSC form of
//! `Xᵀ`, made on the host in `O(nnz)`).

use dictum_linalg::CscMatrix;
use dictum_linalg::backend::{Declined, Input, SparseProduct};
use faer::MatMut;

use crate::buffers;
use crate::device::Gpu;
use crate::dispatch::{self, wrapped};
use crate::gemm::operand;
use crate::pipelines::{DENSE_TIMES_SPARSE, SPARSE_T_TIMES_DENSE};

use crate::precision::{DeviceReal, bytes};

/// Both shaders' `Params`: two sizes, then how the dense operand is strided
/// (`dense_times_sparse`: its leading dimension and an unused word; `sparse_t_times_dense`:
/// row and column strides).
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct Params {
    pub(crate) first: u32,
    pub(crate) second: u32,
    pub(crate) stride0: u32,
    pub(crate) stride1: u32,
}

/// `x`'s three arrays on the device (declined when a binding would overflow or a value is
/// not finite).
pub(crate) fn upload_csc<T: DeviceReal>(
    gpu: &Gpu,
    x: &CscMatrix<T>,
) -> Result<[wgpu::Buffer; 3], Declined> {
    if bytes::<T>(x.nnz()) > gpu.max_binding || ((x.ncols() + 1) * 4) as u64 > gpu.max_binding {
        return Err(Declined::new(format!(
            "the sparse matrix's {} non-zeros exceed one storage binding",
            x.nnz()
        )));
    }
    if x.values().iter().any(|v| !v.is_finite()) {
        return Err(Declined::new(
            "the sparse matrix has non-finite values; the device would carry them silently",
        ));
    }
    let ptr: Vec<u32> = x.col_ptr().iter().map(|&p| p as u32).collect();
    let usage = wgpu::BufferUsages::STORAGE;
    let make = |label: &str, bytes: &[u8]| {
        use wgpu::util::DeviceExt;
        let zero = [0u8; 4];
        gpu.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: if bytes.is_empty() { &zero } else { bytes },
                usage,
            })
    };
    Ok([
        make("col_ptr", bytemuck::cast_slice(&ptr)),
        make("rows", bytemuck::cast_slice(x.row_indices())),
        make("vals", bytemuck::cast_slice(x.values())),
    ])
}

/// `dst = product(x, b)` (shapes checked by the context).
pub(crate) fn sparse_dense<T: DeviceReal>(
    gpu: &Gpu,
    dst: MatMut<'_, T>,
    product: SparseProduct,
    x: &CscMatrix<T>,
    b: Input<'_, T>,
) -> Result<(), Declined> {
    let (rows, cols) = (dst.nrows(), dst.ncols());
    if rows == 0 || cols == 0 {
        return Ok(());
    }
    let dense_side = match product {
        SparseProduct::DenseTimesSparse => rows,
        _ => cols,
    };
    if let Some(reason) = gpu.mode.declines(2.0 * x.nnz() as f64 * dense_side as f64) {
        return Err(Declined::new(reason));
    }
    if bytes::<T>(rows * cols) > gpu.max_binding {
        return Err(Declined::new(
            "the product exceeds one storage binding (sparse products do not stream yet)",
        ));
    }
    let b_dev = operand(gpu, b, "the dense operand")?;
    let ld = b.view().nrows() as u32;
    // X·B is Xᵀ's CSC form times B: the kernel of Xᵀ·B on the transpose.
    let transposed;
    let (kernel, x) = match product {
        SparseProduct::DenseTimesSparse => (DENSE_TIMES_SPARSE, x),
        SparseProduct::SparseTransposeTimesDense => (SPARSE_T_TIMES_DENSE, x),
        SparseProduct::SparseTimesDense => {
            transposed = x.transpose();
            (SPARSE_T_TIMES_DENSE, &transposed)
        }
    };
    let [ptr, idx, val] = upload_csc(gpu, x)?;
    let (y, z) = wrapped(cols);
    let params = match product {
        SparseProduct::DenseTimesSparse => Params {
            first: rows as u32,
            second: cols as u32,
            stride0: ld,
            stride1: 0,
        },
        _ => Params {
            first: rows as u32,
            second: cols as u32,
            stride0: 1,
            stride1: ld,
        },
    };
    dispatch::run(
        gpu,
        kernel,
        &params,
        &[b_dev.buffer(), &ptr, &idx, &val],
        rows * cols,
        [rows.div_ceil(64) as u32, y, z],
        |src| buffers::write_columns(dst, 0, src),
    )
}
