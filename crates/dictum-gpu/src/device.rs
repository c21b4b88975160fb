//! An opened GPU: device, queue, the kernels' pipelines and a pool of buffers.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::adapters::{AdapterReport, enumerate, instance, no_adapter_reason};
use crate::buffers::Pool;
use crate::error::{GpuError, Result};
use crate::pipelines::Pipelines;
use crate::policy::Mode;
use crate::timing::Times;

/// Distinguishes devices, so that a resident buffer is never used on another device.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A GPU opened for dictum's kernels: a `dictum_linalg::backend::Backend`.
///
/// Open one with [`Gpu::open`] (or through [`select`](crate::select)) and keep it for the
/// whole run: pipelines compile on first use and buffers are pooled across calls.
pub struct Gpu {
    pub(crate) id: u64,
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) report: AdapterReport,
    pub(crate) name: String,
    pub(crate) max_binding: u64,
    pub(crate) pipelines: Pipelines,
    pub(crate) pool: Pool,
    pub(crate) mode: Mode,
    /// Whether passes record timestamps ([`Gpu::with_timing`]).
    pub(crate) timing: bool,
    pub(crate) times: Times,
}

impl core::fmt::Debug for Gpu {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Gpu")
            .field("name", &self.name)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl Gpu {
    /// Opens adapter `index` (the `N` of `dictum devices`) in `mode`.
    pub fn open(index: usize, mode: Mode) -> Result<Self> {
        let instance = instance();
        let mut found = enumerate(&instance);
        if found.is_empty() {
            return Err(GpuError::NoAdapter {
                reason: no_adapter_reason(),
            });
        }
        let count = found.len();
        if index >= count {
            return Err(GpuError::NoSuchAdapter { index, count });
        }
        let adapter = found.swap_remove(index);
        let report = AdapterReport::of(index, &adapter);
        // Only what the kernels use where offered: timestamps, subgroups, f64 shaders.
        let wanted =
            wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::SUBGROUP | wgpu::Features::SHADER_F64;
        let required_features = adapter.features() & wanted;
        let descriptor = wgpu::DeviceDescriptor {
            label: Some("dictum"),
            required_features,
            required_limits: adapter.limits(),
            ..Default::default()
        };
        let (device, queue) =
            pollster::block_on(adapter.request_device(&descriptor)).map_err(|e| {
                GpuError::RequestDevice {
                    adapter: report.name.clone(),
                    reason: e.to_string(),
                }
            })?;
        let name = format!("{}: {}", report.backend.to_lowercase(), report.name);
        Ok(Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            max_binding: report.max_binding_bytes,
            pipelines: Pipelines::default(),
            pool: Pool::default(),
            device,
            queue,
            report,
            name,
            mode,
            timing: false,
            times: Times::default(),
        })
    }

    /// The adapter this device runs on.
    pub fn adapter(&self) -> &AdapterReport {
        &self.report
    }

    /// How it decides which operations to run ([`Mode`]).
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The same device in another mode.
    pub fn with_mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// The largest storage buffer a kernel binds, in bytes; larger inputs stream in chunks.
    pub fn max_binding_bytes(&self) -> u64 {
        self.max_binding
    }

    /// Caps the binding size below the adapter's (for tests of the streaming path; a cap
    /// above the adapter's limit is ignored).
    pub fn with_max_binding_bytes(mut self, bytes: u64) -> Self {
        self.max_binding = bytes.clamp(1024, self.report.max_binding_bytes);
        self
    }

    /// Records each kernel's device time with timestamp queries (where the adapter has
    /// them; see [`Gpu::kernel_times`]). Off by default: reading the clocks costs a map per
    /// pass.
    pub fn with_timing(mut self, on: bool) -> Self {
        self.timing = on;
        self
    }

    /// Device time per kernel since the last [`Gpu::reset_kernel_times`]: `(kernel, passes,
    /// seconds)`. Empty unless [`Gpu::with_timing`] is on and the adapter has timestamps.
    pub fn kernel_times(&self) -> Vec<(&'static str, u64, f64)> {
        self.times.snapshot()
    }

    /// Forgets the kernel times recorded so far.
    pub fn reset_kernel_times(&self) {
        self.times.clear();
    }

    /// Blocks until the queue is idle.
    pub(crate) fn wait(&self) {
        // A lost device surfaces as a failed map afterwards; nothing to do here.
        let _ = self.device.poll(wgpu::PollType::wait_indefinitely());
    }
}
