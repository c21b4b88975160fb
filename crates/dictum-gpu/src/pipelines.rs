//! Compute pipelines, compiled once per device on first use.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use dictum_linalg::backend::Declined;

/// A kernel: its name (for labels and the cache), its WGSL source and entry point.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Kernel {
    pub(crate) name: &'static str,
    pub(crate) source: &'static str,
    pub(crate) entry: &'static str,
}

/// `kernels/gemm.wgsl` after `kernels/gemm_common.wgsl`.
pub(crate) const GEMM: Kernel = Kernel {
    name: "gemm",
    source: concat!(
        include_str!("../../../kernels/gemm_common.wgsl"),
        include_str!("../../../kernels/gemm.wgsl")
    ),
    entry: "main",
};

/// `kernels/gemm_large.wgsl` after `kernels/gemm_common.wgsl`: 128 x 128 tiles for large
/// products.
pub(crate) const GEMM_LARGE: Kernel = Kernel {
    name: "gemm_large",
    source: concat!(
        include_str!("../../../kernels/gemm_common.wgsl"),
        include_str!("../../../kernels/gemm_large.wgsl")
    ),
    entry: "main",
};

/// `kernels/column_norms.wgsl`.
pub(crate) const COLUMN_NORMS: Kernel = Kernel {
    name: "column_norms",
    source: include_str!("../../../kernels/column_norms.wgsl"),
    entry: "main",
};

/// `kernels/dense_times_sparse.wgsl`.
pub(crate) const DENSE_TIMES_SPARSE: Kernel = Kernel {
    name: "dense_times_sparse",
    source: include_str!("../../../kernels/dense_times_sparse.wgsl"),
    entry: "main",
};

/// `kernels/sparse_t_times_dense.wgsl`.
pub(crate) const SPARSE_T_TIMES_DENSE: Kernel = Kernel {
    name: "sparse_t_times_dense",
    source: include_str!("../../../kernels/sparse_t_times_dense.wgsl"),
    entry: "main",
};

/// `kernels/pursuit.wgsl` after `kernels/workgroup_reduce.wgsl`.
pub(crate) const PURSUIT: Kernel = Kernel {
    name: "pursuit",
    source: concat!(
        include_str!("../../../kernels/workgroup_reduce.wgsl"),
        include_str!("../../../kernels/pursuit.wgsl")
    ),
    entry: "main",
};

/// `kernels/selection.wgsl` after `kernels/workgroup_reduce.wgsl`.
pub(crate) const SELECTION: Kernel = Kernel {
    name: "selection",
    source: concat!(
        include_str!("../../../kernels/workgroup_reduce.wgsl"),
        include_str!("../../../kernels/selection.wgsl")
    ),
    entry: "main",
};

/// `kernels/fista_step.wgsl`.
pub(crate) const FISTA_STEP: Kernel = Kernel {
    name: "fista_step",
    source: include_str!("../../../kernels/fista_step.wgsl"),
    entry: "main",
};

/// `kernels/lasso_gap.wgsl`.
pub(crate) const LASSO_GAP: Kernel = Kernel {
    name: "lasso_gap",
    source: include_str!("../../../kernels/lasso_gap.wgsl"),
    entry: "main",
};

/// `kernels/partial_sums.wgsl`.
pub(crate) const PARTIAL_SUMS: Kernel = Kernel {
    name: "partial_sums",
    source: include_str!("../../../kernels/partial_sums.wgsl"),
    entry: "main",
};

/// `kernels/outer_products.wgsl`.
pub(crate) const OUTER_PRODUCTS: Kernel = Kernel {
    name: "outer_products",
    source: include_str!("../../../kernels/outer_products.wgsl"),
    entry: "main",
};

/// `kernels/nmf_hals.wgsl`.
pub(crate) const NMF_HALS: Kernel = Kernel {
    name: "nmf_hals",
    source: include_str!("../../../kernels/nmf_hals.wgsl"),
    entry: "main",
};

/// `kernels/nmf_update.wgsl`.
pub(crate) const NMF_UPDATE: Kernel = Kernel {
    name: "nmf_update",
    source: include_str!("../../../kernels/nmf_update.wgsl"),
    entry: "main",
};

/// `kernels/nmf_quotient.wgsl`.
pub(crate) const NMF_QUOTIENT: Kernel = Kernel {
    name: "nmf_quotient",
    source: include_str!("../../../kernels/nmf_quotient.wgsl"),
    entry: "main",
};

/// `kernels/line_sums.wgsl`.
pub(crate) const LINE_SUMS: Kernel = Kernel {
    name: "line_sums",
    source: include_str!("../../../kernels/line_sums.wgsl"),
    entry: "main",
};

/// `kernels/sddmm.wgsl`.
pub(crate) const SDDMM: Kernel = Kernel {
    name: "sddmm",
    source: include_str!("../../../kernels/sddmm.wgsl"),
    entry: "main",
};

/// `kernels/reduce.wgsl`.
pub(crate) const REDUCE: Kernel = Kernel {
    name: "reduce",
    source: include_str!("../../../kernels/reduce.wgsl"),
    entry: "main",
};

/// `kernels/ksvd.wgsl`: the steps of the batched atom update, one entry point each.
const KSVD_SOURCE: &str = include_str!("../../../kernels/ksvd.wgsl");

/// An entry point of `kernels/ksvd.wgsl`.
const fn ksvd(name: &'static str, entry: &'static str) -> Kernel {
    Kernel {
        name,
        source: KSVD_SOURCE,
        entry,
    }
}

/// `ksvd.wgsl`'s `gather`: `S = Y·Vᵀ`, a chunk of signals at a time.
pub(crate) const KSVD_GATHER: Kernel = ksvd("ksvd_gather", "gather");
/// `ksvd.wgsl`'s `spgemm`: `X·Vᵀ` by groups of users.
pub(crate) const KSVD_SPGEMM: Kernel = ksvd("ksvd_spgemm", "spgemm");
/// `ksvd.wgsl`'s `combine`: the new atoms, normalized.
pub(crate) const KSVD_COMBINE: Kernel = ksvd("ksvd_combine", "combine");
/// `ksvd.wgsl`'s `project`: `Yᵀ·U` at the users.
pub(crate) const KSVD_PROJECT: Kernel = ksvd("ksvd_project", "project");
/// `ksvd.wgsl`'s `coefs`: `Eᵀ·u` at the users.
pub(crate) const KSVD_COEFS: Kernel = ksvd("ksvd_coefs", "coefs");
/// `ksvd.wgsl`'s `finish`: the batch written back.
pub(crate) const KSVD_FINISH: Kernel = ksvd("ksvd_finish", "finish");

/// What tells compiled pipelines apart: the kernel's name, f64, and the workgroup size it
/// was specialized to (0: as written).
type PipelineKey = (&'static str, bool, u32);

/// The pipelines compiled so far.
#[derive(Default)]
pub(crate) struct Pipelines {
    compiled: Mutex<HashMap<PipelineKey, Arc<wgpu::ComputePipeline>>>,
}

/// How a shader states its workgroup size when the host may specialize it.
const WORKGROUP_CONST: &str = "const WG: u32 = 256u;";

impl Pipelines {
    /// The pipeline of `kernel` (its entry point) in f32 or, with `f64`, with every `f32`
    /// of its source read as `f64`; compiled on first use.
    pub(crate) fn get(
        &self,
        device: &wgpu::Device,
        kernel: Kernel,
        f64: bool,
    ) -> Result<Arc<wgpu::ComputePipeline>, Declined> {
        self.get_sized(device, kernel, f64, None)
    }

    /// [`get`](Self::get) with the shader's `const WG: u32 = 256u;` set to `workgroup`
    /// invocations (the shaders written that way size their workgroups and reductions by
    /// it).
    pub(crate) fn get_sized(
        &self,
        device: &wgpu::Device,
        kernel: Kernel,
        f64: bool,
        workgroup: Option<u32>,
    ) -> Result<Arc<wgpu::ComputePipeline>, Declined> {
        let mut compiled = self
            .compiled
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = (kernel.name, f64, workgroup.unwrap_or(0));
        if let Some(p) = compiled.get(&key) {
            return Ok(p.clone());
        }
        let mut source = std::borrow::Cow::Borrowed(kernel.source);
        if f64 {
            source = source.replace("f32", "f64").into();
        }
        if let Some(wg) = workgroup {
            debug_assert!(kernel.source.contains(WORKGROUP_CONST));
            source = source
                .replace(WORKGROUP_CONST, &format!("const WG: u32 = {wg}u;"))
                .into();
        }
        // A shader the adapter's compiler rejects is a decline (the CPU runs the call),
        // never wgpu's default panic.
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(kernel.name),
            source: wgpu::ShaderSource::Wgsl(source),
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(kernel.name),
            layout: None,
            module: &module,
            entry_point: Some(kernel.entry),
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
        compiled.insert(key, pipeline.clone());
        Ok(pipeline)
    }
}
