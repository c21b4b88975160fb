//! Device buffers: a pool reused across calls, packing host views for upload, reading
//! results back, and the resident matrices of `Exec::resident`.

use std::sync::{Arc, Mutex};

use faer::{MatMut, MatRef};
use wgpu::util::DeviceExt;

use crate::precision::{DeviceReal, bytes};

/// A matrix kept on the device across calls (a dictionary during an encode): column-major,
/// contiguous (`lda = rows`).
#[derive(Debug)]
pub(crate) struct GpuMatrix {
    /// The device that holds it.
    pub(crate) device: u64,
    pub(crate) buffer: Arc<wgpu::Buffer>,
    pub(crate) rows: usize,
    pub(crate) cols: usize,
}

/// Buffers not in use, kept for the next call of a similar size (a fit calls the same
/// shapes every iteration).
#[derive(Default)]
pub(crate) struct Pool {
    free: Mutex<Vec<wgpu::Buffer>>,
}

/// At most this many idle buffers are kept.
const POOL_BUFFERS: usize = 16;

impl Pool {
    /// A buffer of at least `bytes` with exactly `usage`. Sizes are rounded up to a power of
    /// two (at most `cap`) so that buffers are reused across slightly different shapes.
    pub(crate) fn take(
        &self,
        device: &wgpu::Device,
        usage: wgpu::BufferUsages,
        bytes: u64,
        cap: u64,
    ) -> wgpu::Buffer {
        let want = bytes.max(16);
        let mut free = self
            .free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let best = free
            .iter()
            .enumerate()
            .filter(|(_, b)| {
                b.usage() == usage && b.size() >= want && b.size() <= 2 * want.max(4096)
            })
            .min_by_key(|(_, b)| b.size())
            .map(|(i, _)| i);
        if let Some(i) = best {
            return free.swap_remove(i);
        }
        drop(free);
        let rounded = want.next_power_of_two().max(4096);
        let size = if rounded <= cap {
            rounded
        } else {
            want.div_ceil(4) * 4
        };
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("dictum pool"),
            size,
            usage,
            mapped_at_creation: false,
        })
    }

    /// Returns a buffer for reuse.
    pub(crate) fn give(&self, buffer: wgpu::Buffer) {
        let mut free = self
            .free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if free.len() >= POOL_BUFFERS {
            // The oldest idle buffer goes; wgpu frees it when dropped.
            free.remove(0);
        }
        free.push(buffer);
    }
}

/// Whether every entry is finite (the device would carry NaN and infinities silently).
pub(crate) fn all_finite<T: DeviceReal>(m: MatRef<'_, T>) -> bool {
    (0..m.ncols()).all(|j| (0..m.nrows()).all(|i| m[(i, j)].is_finite()))
}

/// `m` as a contiguous column-major vector (a copy-free slice when it already is one).
pub(crate) fn packed<'a, T: DeviceReal>(m: MatRef<'a, T>) -> std::borrow::Cow<'a, [T]> {
    if m.row_stride() == 1 && (m.col_stride() == m.nrows() as isize || m.ncols() <= 1) {
        let len = m.nrows() * m.ncols();
        if len == 0 {
            return std::borrow::Cow::Borrowed(&[]);
        }
        // SAFETY: unit row stride and column stride `nrows` (or a single column) make the
        // `nrows * ncols` entries from the first one one contiguous, initialised allocation
        // that lives as long as the view.
        let s = unsafe { std::slice::from_raw_parts(m.as_ptr(), len) };
        return std::borrow::Cow::Borrowed(s);
    }
    let mut v = Vec::with_capacity(m.nrows() * m.ncols());
    for j in 0..m.ncols() {
        v.extend((0..m.nrows()).map(|i| m[(i, j)]));
    }
    std::borrow::Cow::Owned(v)
}

/// Columns `j0..j0 + len` of `m` (already `op(B)`), contiguous column-major, into `out`.
pub(crate) fn pack_columns<T: DeviceReal>(
    m: MatRef<'_, T>,
    j0: usize,
    len: usize,
    out: &mut Vec<T>,
) {
    out.clear();
    out.reserve(m.nrows() * len);
    for j in j0..j0 + len {
        out.extend((0..m.nrows()).map(|i| m[(i, j)]));
    }
}

/// A storage buffer of `len` elements of `elem` bytes (at least 16 bytes) that kernels read
/// and write and that can be copied to and from: the working buffers of a fused operation.
pub(crate) fn scratch(device: &wgpu::Device, label: &str, len: usize, elem: u64) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: (len as u64 * elem).max(16),
        usage: wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_SRC
            | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

/// A storage buffer holding `data`, created with it.
pub(crate) fn storage_with<T: DeviceReal>(
    device: &wgpu::Device,
    label: &str,
    data: &[T],
) -> wgpu::Buffer {
    // wgpu rejects zero-sized bindings; an empty matrix is bound as one zero.
    let bytes: &[u8] = if data.is_empty() {
        &[0u8; 8]
    } else {
        bytemuck::cast_slice(data)
    };
    device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some(label),
        contents: bytes,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
    })
}

/// A uniform buffer holding `params`.
pub(crate) fn uniform<P: bytemuck::Pod>(device: &wgpu::Device, params: &P) -> wgpu::Buffer {
    device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("dictum params"),
        contents: bytemuck::bytes_of(params),
        usage: wgpu::BufferUsages::UNIFORM,
    })
}

/// Maps `staging` (filled by a submitted copy) and hands its first `len` elements to `f`;
/// `None` if the device could not map it (a lost device).
pub(crate) fn read_back<T: bytemuck::Pod, R>(
    device: &wgpu::Device,
    staging: &wgpu::Buffer,
    len: usize,
    submission: Option<wgpu::SubmissionIndex>,
    f: impl FnOnce(&[T]) -> R,
) -> Option<R> {
    let bytes = bytes::<T>(len);
    let slice = staging.slice(..bytes.max(8));
    let (tx, rx) = std::sync::mpsc::channel();
    slice.map_async(wgpu::MapMode::Read, move |r| {
        let _ = tx.send(r.is_ok());
    });
    let wait = wgpu::PollType::Wait {
        submission_index: submission,
        timeout: None,
    };
    device.poll(wait).ok()?;
    if !rx.recv().ok()? {
        return None;
    }
    let out = {
        let view = slice.get_mapped_range().ok()?;
        let elements: &[T] = bytemuck::cast_slice(&view);
        f(&elements[..len])
    };
    staging.unmap();
    Some(out)
}

/// Writes a column-major `rows x cols` block (`src`, contiguous) into `dst` at column `j0`.
pub(crate) fn write_columns<T: DeviceReal>(mut dst: MatMut<'_, T>, j0: usize, src: &[T]) {
    let rows = dst.nrows();
    if rows == 0 {
        return;
    }
    for (c, col) in src.chunks_exact(rows).enumerate() {
        for (i, &v) in col.iter().enumerate() {
            dst[(i, j0 + c)] = v;
        }
    }
}
