//! Adapter discovery: what wgpu finds, reported in the terms that matter for dictum.

use crate::error::{GpuError, Result};

/// The wgpu instance: Vulkan only (see the workspace manifest), honouring `WGPU_BACKEND`.
pub(crate) fn instance() -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env())
}

/// Every adapter wgpu can see, in its order (the `N` of `gpu:N`).
pub(crate) fn enumerate(instance: &wgpu::Instance) -> Vec<wgpu::Adapter> {
    pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()))
}

/// One adapter as `dictum devices` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct AdapterReport {
    /// Its index, as `--device gpu:N` takes it.
    pub index: usize,
    /// The adapter's name (`NVIDIA H200`, `llvmpipe (LLVM 15.0.6, 256 bits)`).
    pub name: String,
    /// The graphics API (`Vulkan`).
    pub backend: String,
    /// Discrete, integrated, virtual, CPU (a software renderer) or other.
    pub device_type: String,
    /// Whether it is a software renderer (lavapipe): correct, but slower than the CPU path.
    pub software: bool,
    /// The driver and its version.
    pub driver: String,
    /// The largest storage buffer one kernel can bind, in bytes (inputs beyond it stream).
    pub max_binding_bytes: u64,
    /// The largest buffer, in bytes.
    pub max_buffer_bytes: u64,
    /// Workgroup memory per workgroup, in bytes.
    pub workgroup_memory_bytes: u32,
    /// Invocations per workgroup.
    pub max_invocations: u32,
    /// Subgroup operations (`subgroupAdd`, …) and the subgroup size range.
    pub subgroups: Option<(u32, u32)>,
    /// `f16` in shaders.
    pub shader_f16: bool,
    /// `f64` in shaders.
    pub shader_f64: bool,
    /// Timestamp queries (kernel times).
    pub timestamps: bool,
}

impl AdapterReport {
    pub(crate) fn of(index: usize, adapter: &wgpu::Adapter) -> Self {
        let info = adapter.get_info();
        let limits = adapter.limits();
        let features = adapter.features();
        let subgroup_sizes = (info.subgroup_min_size, info.subgroup_max_size);
        Self {
            index,
            name: info.name,
            backend: format!("{:?}", info.backend),
            device_type: format!("{:?}", info.device_type),
            software: info.device_type == wgpu::DeviceType::Cpu,
            driver: [info.driver, info.driver_info]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
            max_binding_bytes: limits.max_storage_buffer_binding_size,
            max_buffer_bytes: limits.max_buffer_size,
            workgroup_memory_bytes: limits.max_compute_workgroup_storage_size,
            max_invocations: limits.max_compute_invocations_per_workgroup,
            subgroups: features
                .contains(wgpu::Features::SUBGROUP)
                .then_some(subgroup_sizes),
            shader_f16: features.contains(wgpu::Features::SHADER_F16),
            shader_f64: features.contains(wgpu::Features::SHADER_F64),
            timestamps: features.contains(wgpu::Features::TIMESTAMP_QUERY),
        }
    }
}

impl core::fmt::Display for AdapterReport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        writeln!(
            f,
            "gpu:{}  {}  ({}, {}{})",
            self.index,
            self.name,
            self.backend,
            self.device_type,
            if self.software { ", software" } else { "" }
        )?;
        writeln!(f, "    driver          {}", self.driver)?;
        writeln!(
            f,
            "    largest binding {:.0} MiB (buffer {:.0} MiB); larger inputs stream in chunks",
            mib(self.max_binding_bytes),
            mib(self.max_buffer_bytes)
        )?;
        writeln!(
            f,
            "    workgroup       {} invocations, {} KiB memory",
            self.max_invocations,
            self.workgroup_memory_bytes / 1024
        )?;
        let yes = |b: bool| if b { "yes" } else { "no" };
        let subgroups = match self.subgroups {
            Some((lo, hi)) if lo == hi => format!("yes ({lo})"),
            Some((lo, hi)) => format!("yes ({lo}-{hi})"),
            None => "no".into(),
        };
        write!(
            f,
            "    features        subgroups {subgroups}, f16 {}, f64 {}, timestamps {}",
            yes(self.shader_f16),
            yes(self.shader_f64),
            yes(self.timestamps)
        )
    }
}

/// The adapters wgpu finds on this machine, or why there are none.
pub fn adapters() -> Result<Vec<AdapterReport>> {
    let found = enumerate(&instance());
    if found.is_empty() {
        return Err(GpuError::NoAdapter {
            reason: no_adapter_reason(),
        });
    }
    Ok(found
        .iter()
        .enumerate()
        .map(|(i, a)| AdapterReport::of(i, a))
        .collect())
}

/// wgpu's explanation of an empty adapter list (it names the drivers it could not load).
pub(crate) fn no_adapter_reason() -> String {
    let options = wgpu::RequestAdapterOptions::default();
    match pollster::block_on(instance().request_adapter(&options)) {
        Ok(_) => "adapters appeared while looking".into(),
        Err(e) => e.to_string(),
    }
}
