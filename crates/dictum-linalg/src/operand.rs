//! Operands of the backend seam: the host view of a matrix and, when it is resident, the
//! backend's own copy of it.

use std::any::Any;

use faer::MatRef;

/// A backend's own copy of a matrix (a device buffer), opaque to everything but the backend
/// that made it.
pub struct DeviceBuffer(Box<dyn Any + Send + Sync>);

impl DeviceBuffer {
    /// Wraps a backend's buffer.
    pub fn new(buffer: impl Any + Send + Sync) -> Self {
        Self(Box::new(buffer))
    }

    /// The buffer, if it is a `B` (a backend looks for its own type).
    pub fn downcast_ref<B: Any>(&self) -> Option<&B> {
        self.0.downcast_ref()
    }
}

impl core::fmt::Debug for DeviceBuffer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("DeviceBuffer")
    }
}

/// A matrix uploaded once to the context's backend and used by many calls (see the
/// [backend docs](crate::backend)); made by `Exec::resident`.
#[derive(Debug)]
pub struct Resident<'a, T> {
    view: MatRef<'a, T>,
    buffer: Option<DeviceBuffer>,
}

impl<'a, T> Resident<'a, T> {
    pub(crate) fn new(view: MatRef<'a, T>, buffer: Option<DeviceBuffer>) -> Self {
        Self { view, buffer }
    }

    /// The host view.
    pub fn view(&self) -> MatRef<'a, T> {
        self.view
    }

    /// The backend's copy, if it made one.
    pub fn buffer(&self) -> Option<&DeviceBuffer> {
        self.buffer.as_ref()
    }
}

/// A dense operand of a kernel: the host view and, when the matrix is [`Resident`], the
/// backend's copy of it.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a, T> {
    view: MatRef<'a, T>,
    buffer: Option<&'a DeviceBuffer>,
}

impl<'a, T> Input<'a, T> {
    /// The host view (always valid; a backend without a copy reads or uploads it).
    pub fn view(&self) -> MatRef<'a, T> {
        self.view
    }

    /// The backend's copy of the same matrix, if it is resident.
    pub fn buffer(&self) -> Option<&'a DeviceBuffer> {
        self.buffer
    }
}

impl<'a, T> From<MatRef<'a, T>> for Input<'a, T> {
    fn from(view: MatRef<'a, T>) -> Self {
        Self { view, buffer: None }
    }
}

impl<'a, T> From<&'a Resident<'_, T>> for Input<'a, T> {
    fn from(r: &'a Resident<'_, T>) -> Self {
        Self {
            view: r.view,
            buffer: r.buffer.as_ref(),
        }
    }
}
