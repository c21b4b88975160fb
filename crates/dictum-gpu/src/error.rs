//! The GPU crate's errors.

/// What went wrong opening or using a GPU.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    /// wgpu found no adapter at all.
    #[error(
        "no GPU adapter found ({reason}); install a Vulkan driver (and the Vulkan loader, \
         libvulkan1), or run on the CPU (--device cpu)"
    )]
    NoAdapter {
        /// wgpu's own explanation.
        reason: String,
    },
    /// An adapter index past the end of the list.
    #[error("there is no GPU {index}: {count} adapter(s) found (`dictum devices` lists them)")]
    NoSuchAdapter {
        /// The index asked for.
        index: usize,
        /// How many adapters exist.
        count: usize,
    },
    /// The adapter refused to create a device.
    #[error("could not open {adapter}: {reason}")]
    RequestDevice {
        /// The adapter's name.
        adapter: String,
        /// wgpu's explanation.
        reason: String,
    },
    /// A request string that is not `cpu`, `auto`, `gpu` or `gpu:N`.
    #[error("unknown device `{0}`: use cpu, auto, gpu or gpu:N (N from `dictum devices`)")]
    BadRequest(String),
}

/// The GPU crate's result type.
pub type Result<T> = std::result::Result<T, GpuError>;
