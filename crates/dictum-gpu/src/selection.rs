//! From a request (`cpu`, `gpu`, `gpu:N`, `auto`) to a backend, with the reason for the
//! choice.

use crate::adapters::adapters;
use crate::device::Gpu;
use crate::error::{GpuError, Result};
use crate::policy::Mode;

/// Which device a run asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceRequest {
    /// The CPU only.
    #[default]
    Cpu,
    /// A GPU, required: adapter `N` (`None`: the first non-software adapter, else the
    /// first). Failing to open it is an error.
    Gpu(Option<usize>),
    /// The first hardware GPU if there is one, used only where it is faster; otherwise the
    /// CPU. Never an error.
    Auto,
}

impl std::str::FromStr for DeviceRequest {
    type Err = GpuError;

    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim().to_ascii_lowercase();
        match t.as_str() {
            "cpu" => Ok(Self::Cpu),
            "auto" => Ok(Self::Auto),
            "gpu" => Ok(Self::Gpu(None)),
            _ => t
                .strip_prefix("gpu:")
                .and_then(|n| n.parse().ok())
                .map(|n| Self::Gpu(Some(n)))
                .ok_or_else(|| GpuError::BadRequest(s.to_string())),
        }
    }
}

/// The outcome of [`select`]: a GPU or none, and why.
#[derive(Debug)]
pub struct Selection {
    /// The opened device, when the run uses one.
    pub gpu: Option<Gpu>,
    /// One line for the log: what was chosen and why.
    pub reason: String,
}

/// Opens what `request` asks for. `Cpu` opens nothing; `Gpu` opens the adapter or fails
/// with the reason; `Auto` opens the first hardware adapter in [`Mode::Auto`], and keeps
/// the CPU when there is none (a software renderer such as lavapipe is slower than the CPU
/// path), saying why.
pub fn select(request: DeviceRequest) -> Result<Selection> {
    match request {
        DeviceRequest::Cpu => Ok(Selection {
            gpu: None,
            reason: "device: cpu (as asked)".into(),
        }),
        DeviceRequest::Gpu(index) => {
            let index = match index {
                Some(i) => i,
                None => {
                    let found = adapters()?;
                    found
                        .iter()
                        .find(|a| !a.software)
                        .unwrap_or(&found[0])
                        .index
                }
            };
            let gpu = Gpu::open(index, Mode::Always)?;
            let reason = format!("device: gpu:{index} {} (as asked)", gpu.adapter().name);
            Ok(Selection {
                gpu: Some(gpu),
                reason,
            })
        }
        DeviceRequest::Auto => {
            let found = match adapters() {
                Ok(found) => found,
                Err(e) => {
                    return Ok(Selection {
                        gpu: None,
                        reason: format!("device: cpu (auto: {e})"),
                    });
                }
            };
            let Some(hw) = found.iter().find(|a| !a.software) else {
                return Ok(Selection {
                    gpu: None,
                    reason: format!(
                        "device: cpu (auto: the only adapter, {}, is a software renderer, slower \
                         than the CPU path; --device gpu uses it anyway)",
                        found[0].name
                    ),
                });
            };
            match Gpu::open(hw.index, Mode::Auto) {
                Ok(gpu) => Ok(Selection {
                    reason: format!(
                        "device: gpu:{} {} (auto: large products on the GPU, small ones on the CPU)",
                        hw.index, hw.name
                    ),
                    gpu: Some(gpu),
                }),
                Err(e) => Ok(Selection {
                    gpu: None,
                    reason: format!("device: cpu (auto: {e})"),
                }),
            }
        }
    }
}
