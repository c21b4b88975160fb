//! Sparse (CSC) times dense products on the device: `A·X` (`kernels/dense_times_sparse.wgsl`),
//! `Xᵀ·B` and `X·B` (`kernels/sparse_t_times_dense.wgsl`, the latter on the CSC form of
//! `Xᵀ`, made on the host in `O(nnz)`). A sparse matrix or a result larger than one storage
//! binding goes through in chunks of the sparse matrix's columns, one after the other; the
//! dense operand must fit one binding.

use dictum_linalg::CscMatrix;
use dictum_linalg::backend::{Declined, Input, SparseProduct};
use faer::MatMut;
use faer::reborrow::ReborrowMut;

use crate::buffers;
use crate::device::Gpu;
use crate::dispatch::{self, wrapped};
use crate::gemm::operand;
use crate::pipelines::{DENSE_TIMES_SPARSE, SPARSE_T_TIMES_DENSE};

use crate::precision::{DeviceReal, bytes};

/// Bytes of a chunk's non-zeros or outputs at most.
const CHUNK_BYTES: u64 = 256 << 20;

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
    upload_columns(gpu, x, 0, x.ncols())
}

/// Columns `c0..c1` of `x` on the device as a CSC matrix of their own (pointers from zero).
fn upload_columns<T: DeviceReal>(
    gpu: &Gpu,
    x: &CscMatrix<T>,
    c0: usize,
    c1: usize,
) -> Result<[wgpu::Buffer; 3], Declined> {
    let (p0, p1) = (x.col_ptr()[c0], x.col_ptr()[c1]);
    if bytes::<T>(p1 - p0) > gpu.max_binding || ((c1 - c0 + 1) * 4) as u64 > gpu.max_binding {
        return Err(Declined::new(format!(
            "the sparse matrix's {} non-zeros exceed one storage binding",
            p1 - p0
        )));
    }
    let vals = &x.values()[p0..p1];
    if vals.iter().any(|v| !v.is_finite()) {
        return Err(Declined::new(
            "the sparse matrix has non-finite values; the device would carry them silently",
        ));
    }
    let ptr: Vec<u32> = x.col_ptr()[c0..=c1]
        .iter()
        .map(|&p| (p - p0) as u32)
        .collect();
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
        make("rows", bytemuck::cast_slice(&x.row_indices()[p0..p1])),
        make("vals", bytemuck::cast_slice(vals)),
    ])
}

/// Consecutive column ranges of `x` whose non-zeros, and whose `out_per_col` outputs per
/// column, each fit in `budget` bytes; `None` when a single column does not.
fn column_chunks<T: DeviceReal>(
    x: &CscMatrix<T>,
    out_per_col: usize,
    budget: u64,
) -> Option<Vec<(usize, usize)>> {
    let mut chunks = Vec::new();
    let mut c0 = 0;
    while c0 < x.ncols() {
        let mut c1 = c0;
        while c1 < x.ncols() {
            let nnz = x.col_ptr()[c1 + 1] - x.col_ptr()[c0];
            let out = (c1 + 1 - c0) * out_per_col;
            if bytes::<T>(nnz.max(out)) > budget || (c1 + 2 - c0) as u64 * 4 > budget {
                break;
            }
            c1 += 1;
        }
        if c1 == c0 {
            return None;
        }
        chunks.push((c0, c1));
        c0 = c1;
    }
    Some(chunks)
}

/// `dst = product(x, b)` (shapes checked by the context).
pub(crate) fn sparse_dense<T: DeviceReal>(
    gpu: &Gpu,
    mut dst: MatMut<'_, T>,
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
    // The sparse matrix's columns in chunks whose non-zeros and outputs each fit one
    // binding: columns of the result for A·X, rows of it for Xᵀ·B (and X·B).
    let dense_times = product == SparseProduct::DenseTimesSparse;
    let out_per_col = if dense_times { rows } else { cols };
    let Some(chunks) = column_chunks(x, out_per_col, gpu.max_binding.min(CHUNK_BYTES)) else {
        return Err(Declined::new(format!(
            "one column of the sparse matrix, or its {out_per_col} outputs, exceeds a storage \
             binding"
        )));
    };
    for (c0, c1) in chunks {
        let len = c1 - c0;
        let [ptr, idx, val] = upload_columns(gpu, x, c0, c1)?;
        let (out_rows, out_cols) = if dense_times {
            (rows, len)
        } else {
            (len, cols)
        };
        let (y, z) = wrapped(out_cols);
        let params = if dense_times {
            Params {
                first: out_rows as u32,
                second: out_cols as u32,
                stride0: ld,
                stride1: 0,
            }
        } else {
            Params {
                first: out_rows as u32,
                second: out_cols as u32,
                stride0: 1,
                stride1: ld,
            }
        };
        let part = if dense_times {
            dst.rb_mut().subcols_mut(c0, len)
        } else {
            dst.rb_mut().subrows_mut(c0, len)
        };
        dispatch::run(
            gpu,
            kernel,
            &params,
            &[b_dev.buffer(), &ptr, &idx, &val],
            out_rows * out_cols,
            [out_rows.div_ceil(64) as u32, y, z],
            |src| buffers::write_columns(part, 0, src),
        )?;
    }
    Ok(())
}
