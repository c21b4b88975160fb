//! Compute pipelines, compiled once per device on first use.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use dictum_linalg::backend::Declined;

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

/// `kernels/pursuit.wgsl`.
pub(crate) const PURSUIT: Kernel = Kernel {
    name: "pursuit",
    source: include_str!("../../../kernels/pursuit.wgsl"),
};

/// `kernels/selection.wgsl`.
pub(crate) const SELECTION: Kernel = Kernel {
    name: "selection",
    source: include_str!("../../../kernels/selection.wgsl"),
};

/// `kernels/fista_step.wgsl`.
pub(crate) const FISTA_STEP: Kernel = Kernel {
    name: "fista_step",
    source: include_str!("../../../kernels/fista_step.wgsl"),
};

/// `kernels/lasso_gap.wgsl`.
pub(crate) const LASSO_GAP: Kernel = Kernel {
    name: "lasso_gap",
    source: include_str!("../../../kernels/lasso_gap.wgsl"),
};

/// `kernels/outer_products.wgsl`.
pub(crate) const OUTER_PRODUCTS: Kernel = Kernel {
    name: "outer_products",
    source: include_str!("../../../kernels/outer_products.wgsl"),
};

/// `kernels/nmf_hals.wgsl`.
pub(crate) const NMF_HALS: Kernel = Kernel {
    name: "nmf_hals",
    source: include_str!("../../../kernels/nmf_hals.wgsl"),
};

/// `kernels/nmf_update.wgsl`.
pub(crate) const NMF_UPDATE: Kernel = Kernel {
    name: "nmf_update",
    source: include_str!("../../../kernels/nmf_update.wgsl"),
};

/// `kernels/nmf_quotient.wgsl`.
pub(crate) const NMF_QUOTIENT: Kernel = Kernel {
    name: "nmf_quotient",
    source: include_str!("../../../kernels/nmf_quotient.wgsl"),
};

/// `kernels/line_sums.wgsl`.
pub(crate) const LINE_SUMS: Kernel = Kernel {
    name: "line_sums",
    source: include_str!("../../../kernels/line_sums.wgsl"),
};

/// `kernels/sddmm.wgsl`.
pub(crate) const SDDMM: Kernel = Kernel {
    name: "sddmm",
    source: include_str!("../../../kernels/sddmm.wgsl"),
};

/// `kernels/reduce.wgsl`.
pub(crate) const REDUCE: Kernel = Kernel {
    name: "reduce",
    source: include_str!("../../../kernels/reduce.wgsl"),
};

/// The pipelines compiled so far, by kernel name.
#[derive(Default)]
pub(crate) struct Pipelines {
    compiled: Mutex<HashMap<(&'static str, bool), Arc<wgpu::ComputePipeline>>>,
}

impl Pipelines {
    /// The pipeline of `kernel` (entry point `main`) in f32 or, with `f64`, with every `f32`
    /// of its source read as `f64`; compiled on first use.
    pub(crate) fn get(
        &self,
        device: &wgpu::Device,
        kernel: Kernel,
        f64: bool,
    ) -> Result<Arc<wgpu::ComputePipeline>, Declined> {
        let mut compiled = self
            .compiled
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(p) = compiled.get(&(kernel.name, f64)) {
            return Ok(p.clone());
        }
        // A shader the adapter's compiler rejects is a decline (the CPU runs the call),
        // never wgpu's default panic.
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(kernel.name),
            source: wgpu::ShaderSource::Wgsl(if f64 {
                kernel.source.replace("f32", "f64").into()
            } else {
                kernel.source.into()
            }),
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(kernel.name),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(Declined::new(format!(
                "the {} kernel ({}) did not compile on this adapter: {e}",
                kernel.name,
                if f64 { "f64" } else { "f32" }
            )));
        }
        let pipeline = Arc::new(pipeline);
        compiled.insert((kernel.name, f64), pipeline.clone());
        Ok(pipeline)
    }
}
