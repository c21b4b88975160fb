//! Element types of `.npy` arrays and HDF5 datasets that dictum reads and writes.

/// An array element type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DType {
    /// 32-bit float (`<f4`).
    F32,
    /// 64-bit float (`<f8`).
    F64,
    /// 64-bit signed integer (`<i8`).
    I64,
    /// 32-bit signed integer (`<i4`).
    I32,
    /// 8-bit unsigned integer (`|u1`).
    U8,
    /// Boolean, one byte (`|b1`).
    Bool,
    /// Fixed-width byte string of `n` bytes (`|Sn`); scipy's `save_npz` stores a sparse
    /// matrix's `format` this way.
    Bytes(usize),
    /// Fixed-width Unicode string of `n` code points, UTF-32 little-endian (`<Un`), as
    /// NumPy stores `str` arrays.
    Unicode(usize),
}

/// An element type dictum cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DTypeError {
    /// Not one of the supported types.
    #[error(
        "unsupported dtype '{0}'; dictum reads f4, f8, i8, i4, u1, b1, S and U: convert with \
         arr.astype(np.float32)"
    )]
    Unsupported(String),
    /// Big-endian data.
    #[error(
        "unsupported byte order in dtype '{0}' (big-endian); convert with \
         arr.astype(arr.dtype.newbyteorder('<'))"
    )]
    ByteOrder(String),
}

impl DType {
    /// Size of one element in bytes.
    pub fn size(&self) -> usize {
        match self {
            DType::F32 | DType::I32 => 4,
            DType::F64 | DType::I64 => 8,
            DType::U8 | DType::Bool => 1,
            DType::Bytes(n) => *n,
            DType::Unicode(n) => 4 * n,
        }
    }

    /// NumPy's `descr` string, e.g. `"<f4"`.
    pub fn descr(&self) -> String {
        match self {
            DType::F32 => "<f4".into(),
            DType::F64 => "<f8".into(),
            DType::I64 => "<i8".into(),
            DType::I32 => "<i4".into(),
            DType::U8 => "|u1".into(),
            DType::Bool => "|b1".into(),
            DType::Bytes(n) => format!("|S{n}"),
            DType::Unicode(n) => format!("<U{n}"),
        }
    }

    /// A short human name: `float32`, `int64`, `<U3`, …
    pub fn name(&self) -> String {
        match self {
            DType::F32 => "float32".into(),
            DType::F64 => "float64".into(),
            DType::I64 => "int64".into(),
            DType::I32 => "int32".into(),
            DType::U8 => "uint8".into(),
            DType::Bool => "bool".into(),
            DType::Bytes(n) => format!("|S{n}"),
            DType::Unicode(n) => format!("<U{n}"),
        }
    }

    /// Parses a NumPy `descr` string.
    pub fn from_descr(descr: &str) -> Result<Self, DTypeError> {
        let unsupported = || DTypeError::Unsupported(descr.to_string());
        let (order, code) = match descr.as_bytes().first() {
            Some(b'<' | b'>' | b'|' | b'=') => descr.split_at(1),
            _ => ("", descr),
        };
        let single_byte = matches!(code, "u1" | "b1" | "?" | "B") || code.starts_with('S');
        if order == ">" && !single_byte {
            // A big-endian zero-width string is still big-endian; refuse it all the same.
            return Err(DTypeError::ByteOrder(descr.to_string()));
        }
        if order == "=" && cfg!(target_endian = "big") {
            return Err(DTypeError::ByteOrder(descr.to_string()));
        }
        match code {
            "f4" => Ok(DType::F32),
            "f8" => Ok(DType::F64),
            "i8" => Ok(DType::I64),
            "i4" => Ok(DType::I32),
            "u1" | "B" => Ok(DType::U8),
            "b1" | "?" => Ok(DType::Bool),
            _ => {
                let (make, n): (fn(usize) -> DType, _) = if let Some(n) = code.strip_prefix('U') {
                    (DType::Unicode, n)
                } else if let Some(n) = code.strip_prefix('S') {
                    (DType::Bytes, n)
                } else {
                    return Err(unsupported());
                };
                let n: usize = n.parse().map_err(|_| unsupported())?;
                if n == 0 || n > 1 << 20 {
                    return Err(unsupported());
                }
                Ok(make(n))
            }
        }
    }
}

impl core::fmt::Display for DType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.name())
    }
}
