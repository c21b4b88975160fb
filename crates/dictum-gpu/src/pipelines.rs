//! Compute pipelines, compiled once per device on first use.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A kernel: its name (for labels and the cache) and its WGSL source.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Kernel {
    pub(crate) name: &'static str,
    pub(crate) source: &'static str,
}

/// `kernels/gemm.wgsl`.
pub(crate) const GEMM: Kernel = Kernel {
    name: "gemm",
    source: include_str!("../../../kernels/gemm.wgsl"),
};

/// `kernels/column_norms.wgsl`.
pub(crate) const COLUMN_NORMS: Kernel = Kernel {
    name: "column_norms",
    source: include_str!("../../../kernels/column_norms.wgsl"),
};

/// `kernels/dense_times_sparse.wgsl`.
pub(crate) const DENSE_TIMES_SPARSE: Kernel = Kernel {
    name: "dense_times_sparse",
    source: include_str!("../../../kernels/dense_times_sparse.wgsl"),
};

/// `kernels/sparse_t_times_dense.wgsl`.
pub(crate) const SPARSE_T_TIMES_DENSE: Kernel = Kernel {
    name: "sparse_t_times_dense",
    source: include_str!("../../../kernels/sparse_t_times_dense.wgsl"),
};

/// The pipelines compiled so far, by kernel name.
#[derive(Default)]
pub(crate) struct Pipelines {
    compiled: Mutex<HashMap<&'static str, Arc<wgpu::ComputePipeline>>>,
}

impl Pipelines {
    /// The pipeline of `kernel` (entry point `main`), compiled on first use.
    pub(crate) fn get(&self, device: &wgpu::Device, kernel: Kernel) -> Arc<wgpu::ComputePipeline> {
        let mut compiled = self
            .compiled
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        compiled
            .entry(kernel.name)
            .or_insert_with(|| {
                let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(kernel.name),
                    source: wgpu::ShaderSource::Wgsl(kernel.source.into()),
                });
                Arc::new(
                    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                        label: Some(kernel.name),
                        layout: None,
                        module: &module,
                        entry_point: Some("main"),
                        compilation_options: Default::default(),
                        cache: None,
                    }),
                )
            })
            .clone()
    }
}
