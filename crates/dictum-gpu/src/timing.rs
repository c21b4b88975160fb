//! Kernel times from timestamp queries: the device's own clock around each compute pass,
//! so that a benchmark can tell kernel time from transfers and host work.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::buffers;

/// Total device time and calls per kernel.
#[derive(Debug, Default)]
pub(crate) struct Times(Mutex<BTreeMap<&'static str, (u64, f64)>>);

impl Times {
    fn add(&self, kernel: &'static str, seconds: f64) {
        let mut t = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let e = t.entry(kernel).or_default();
        e.0 += 1;
        e.1 += seconds;
    }

    /// `(kernel, calls, seconds)`, by kernel name.
    pub(crate) fn snapshot(&self) -> Vec<(&'static str, u64, f64)> {
        let t = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        t.iter().map(|(k, (n, s))| (*k, *n, *s)).collect()
    }

    pub(crate) fn clear(&self) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

/// The queries of one compute pass.
pub(crate) struct PassTimer {
    kernel: &'static str,
    queries: wgpu::QuerySet,
    resolved: wgpu::Buffer,
    staging: wgpu::Buffer,
}

impl PassTimer {
    /// A timer for one pass of `kernel`, when timing is on and the device has timestamps.
    pub(crate) fn new(device: &wgpu::Device, on: bool, kernel: &'static str) -> Option<Self> {
        if !on || !device.features().contains(wgpu::Features::TIMESTAMP_QUERY) {
            return None;
        }
        let queries = device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some(kernel),
            ty: wgpu::QueryType::Timestamp,
            count: 2,
        });
        let buffer = |usage| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(kernel),
                size: 16,
                usage,
                mapped_at_creation: false,
            })
        };
        Some(Self {
            kernel,
            queries,
            resolved: buffer(wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC),
            staging: buffer(wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST),
        })
    }

    /// What the pass descriptor takes.
    pub(crate) fn writes(&self) -> wgpu::ComputePassTimestampWrites<'_> {
        wgpu::ComputePassTimestampWrites {
            query_set: &self.queries,
            beginning_of_pass_write_index: Some(0),
            end_of_pass_write_index: Some(1),
        }
    }

    /// Encodes copying the two timestamps out (after the pass).
    pub(crate) fn resolve(&self, encoder: &mut wgpu::CommandEncoder) {
        encoder.resolve_query_set(&self.queries, 0..2, &self.resolved, 0);
        encoder.copy_buffer_to_buffer(&self.resolved, 0, &self.staging, 0, 16);
    }

    /// Reads the timestamps once `submission` is done and adds the pass's time to `times`.
    pub(crate) fn finish(
        self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        times: &Times,
        submission: wgpu::SubmissionIndex,
    ) {
        let ticks =
            buffers::read_back(device, &self.staging, 2, Some(submission), |t: &[u64]| {
                t[1].saturating_sub(t[0])
            });
        let Some(ticks) = ticks else {
            return;
        };
        let ns = ticks as f64 * f64::from(queue.get_timestamp_period());
        times.add(self.kernel, ns * 1e-9);
    }
}
