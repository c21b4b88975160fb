//! When the GPU takes an operation: always (it was asked for) or where it pays (`auto`).

/// How a [`Gpu`](crate::Gpu) decides whether to run an operation it supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every supported operation runs on the device (`--device gpu`).
    Always,
    /// Only products large enough to repay the transfers run on the device; smaller ones
    /// are declined, with the reason, and run on the CPU (`--device auto`).
    Auto,
}

/// Below this many floating-point operations a product stays on the CPU in [`Mode::Auto`]:
/// uploading and reading back costs more than the CPU's time for it (about a millisecond of
/// one core's GEMM).
pub(crate) const AUTO_MIN_FLOPS: f64 = 5e7;

impl Mode {
    /// Why `flops` of work stay on the CPU, if they do.
    pub(crate) fn declines(self, flops: f64) -> Option<String> {
        match self {
            Mode::Always => None,
            Mode::Auto if flops < AUTO_MIN_FLOPS => Some(format!(
                "auto: {:.1} MFLOP is below the {:.0} MFLOP at which the GPU repays its transfers",
                flops / 1e6,
                AUTO_MIN_FLOPS / 1e6
            )),
            Mode::Auto => None,
        }
    }
}
