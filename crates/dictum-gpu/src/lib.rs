//! dictum's GPU backend: WGSL compute kernels run through [wgpu] (Vulkan), behind
//! `dictum-linalg`'s backend seam.
//!
//! [`Gpu`] implements `dictum_linalg::backend::Backend`: pass it to an execution context
//! (`Exec::new(par).with_backend(&gpu)`) and every algorithm's products run on the device,
//! with no second code path above `dictum-linalg`, and the fused operations (pursuits, NMF's
//! and FISTA's iterations) run whole on the device. What it does not run (f64 on adapters
//! without f64 shaders, shapes beyond its kernels' limits) falls back to the CPU with the
//! reason reported to the context's observer.
//!
//! - [`adapters`] lists the adapters wgpu finds, with what matters for dictum (backend,
//!   type, storage-binding limit, subgroups, f16/f64, timestamps);
//! - [`select`] turns a request (`cpu`, `gpu[:N]`, `auto`) into a backend and says why;
//! - shaders are files in the workspace's `kernels/` folder (`gemm.wgsl`, …), each with a
//!   header comment giving what it computes and its layout.
//!
//! Inputs larger than one storage binding (128 MiB on lavapipe, 2 GiB on Vulkan GPUs) are
//! streamed through the device in column chunks, two chunks in flight, so that packing and
//! uploading one overlaps computing the other. A matrix made resident (`Exec::resident`:
//! the dictionary of an encode) is uploaded once and reused by every call.
//!
//! Kernels compute in f32, and in f64 where the adapter has `SHADER_F64` (the same shaders
//! with their element type replaced); results equal the CPU's within the rounding of a
//! different summation order (tests/tests/gpu.rs checks every kernel against the CPU).

mod adapters;
mod atoms;
mod backend;
mod buffers;
mod device;
mod dispatch;
mod error;
mod factorize;
mod gemm;
mod lasso;
mod norms;
mod outer;
mod pipelines;
mod policy;
mod precision;
mod pursuit;
mod selection;
mod sparse;
mod timing;

pub use adapters::{AdapterReport, adapters};
pub use device::Gpu;
pub use error::{GpuError, Result};
pub use policy::Mode;
pub use selection::{DeviceRequest, Selection, select};
