//! GPU backend for dictum through wgpu: device, buffers, pipelines; shaders live in the
//! workspace's `kernels/*.wgsl`.
//!
//! **Empty for now**: the GPU issue fills this crate by implementing
//! `dictum_linalg::backend::Backend` (one `Kernels` method per seam operation, a shader per
//! kernel); nothing above `dictum-linalg` changes. CI already installs Mesa's software
//! Vulkan driver (lavapipe) so its tests will run for real without a GPU.
