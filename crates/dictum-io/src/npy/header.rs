//! The `.npy` header: magic, version, and the Python-dict literal that describes the array.
//!
//! Format (NumPy NEP 1): `\x93NUMPY`, major and minor version bytes, a little-endian header
//! length (`u16` for 1.0, `u32` for 2.0 and 3.0), then an ASCII (UTF-8 for 3.0) dict literal
//! such as `{'descr': '<f4', 'fortran_order': False, 'shape': (1797, 64), }`, padded with spaces
//! and a newline so that the data starts on a 64-byte boundary.
//!
//! [`parse_header`] takes untrusted bytes and never panics; a fuzz target in `fuzz/` checks it.

use crate::dtype::{DType, DTypeError};

/// The six magic bytes every `.npy` file starts with.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Data offset alignment written by NumPy (and by dictum).
const ALIGN: usize = 64;

/// Largest header dictum accepts: NumPy itself refuses headers over 10 000 bytes by default;
/// this bound only protects against absurd allocations on corrupt input.
const MAX_HEADER_LEN: usize = 1 << 20;

/// What a `.npy` header says about the array that follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyHeader {
    /// Format version `(major, minor)`: (1, 0), (2, 0) or (3, 0).
    pub version: (u8, u8),
    /// Element type.
    pub dtype: DType,
    /// `true` for column-major (Fortran) element order.
    pub fortran_order: bool,
    /// Array shape; empty for a 0-d (scalar) array.
    pub shape: Vec<usize>,
    /// Byte offset of the first element (magic + lengths + dict + padding).
    pub data_offset: usize,
}

impl NpyHeader {
    /// Number of elements (product of the shape; 1 for a 0-d array).
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// `true` when the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of element data that must follow the header.
    pub fn data_len(&self) -> usize {
        self.len() * self.dtype.size()
    }
}

/// Why a `.npy` header could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NpyFormatError {
    /// The file does not start with `\x93NUMPY`.
    #[error("not a .npy file (wrong magic bytes; expected \\x93NUMPY)")]
    BadMagic,
    /// A version dictum does not know.
    #[error("unsupported .npy format version {0}.{1} (supported: 1.0, 2.0, 3.0)")]
    UnsupportedVersion(u8, u8),
    /// Fewer bytes than the header or the data need.
    #[error("truncated .npy file: needs {expected} bytes, has {actual}")]
    Truncated {
        /// Bytes needed.
        expected: usize,
        /// Bytes present.
        actual: usize,
    },
    /// The dict literal is malformed.
    #[error("malformed .npy header: {0}")]
    BadHeader(String),
    /// An element type dictum cannot read.
    #[error(transparent)]
    DType(#[from] DTypeError),
    /// The shape's element or byte count does not fit in memory addresses.
    #[error("shape {0:?} overflows the addressable size")]
    ShapeOverflow(Vec<usize>),
}

/// Parses the header at the start of `bytes` (the data need not be present).
pub fn parse_header(bytes: &[u8]) -> Result<NpyHeader, NpyFormatError> {
    if bytes.len() < 8 {
        if !MAGIC.starts_with(&bytes[..bytes.len().min(6)]) {
            return Err(NpyFormatError::BadMagic);
        }
        return Err(NpyFormatError::Truncated {
            expected: 10,
            actual: bytes.len(),
        });
    }
    if &bytes[..6] != MAGIC {
        return Err(NpyFormatError::BadMagic);
    }
    let version = (bytes[6], bytes[7]);
    let (len_size, utf8) = match version {
        (1, 0) => (2, false),
        (2, 0) => (4, false),
        (3, 0) => (4, true),
        (a, b) => return Err(NpyFormatError::UnsupportedVersion(a, b)),
    };
    let prefix = 8 + len_size;
    if bytes.len() < prefix {
        return Err(NpyFormatError::Truncated {
            expected: prefix,
            actual: bytes.len(),
        });
    }
    let header_len = if len_size == 2 {
        u16::from_le_bytes([bytes[8], bytes[9]]) as usize
    } else {
        u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize
    };
    if header_len > MAX_HEADER_LEN {
        return Err(NpyFormatError::BadHeader(format!(
            "header length {header_len} is implausibly large"
        )));
    }
    let data_offset = prefix + header_len;
    if bytes.len() < data_offset {
        return Err(NpyFormatError::Truncated {
            expected: data_offset,
            actual: bytes.len(),
        });
    }
    let raw = &bytes[prefix..data_offset];
    let text = if utf8 {
        std::str::from_utf8(raw).map_err(|_| bad("header is not valid UTF-8"))?
    } else {
        if !raw.is_ascii() {
            return Err(bad("header is not ASCII"));
        }
        std::str::from_utf8(raw).map_err(|_| bad("header is not ASCII"))?
    };
    let (descr, fortran_order, shape) = parse_dict(text)?;
    let dtype = DType::from_descr(&descr)?;
    let count = shape
        .iter()
        .try_fold(1usize, |acc, &n| acc.checked_mul(n))
        .and_then(|n| n.checked_mul(dtype.size()))
        .filter(|&n| n <= isize::MAX as usize);
    if count.is_none() {
        return Err(NpyFormatError::ShapeOverflow(shape));
    }
    Ok(NpyHeader {
        version,
        dtype,
        fortran_order,
        shape,
        data_offset,
    })
}

fn bad(msg: &str) -> NpyFormatError {
    NpyFormatError::BadHeader(msg.to_string())
}

/// A value of the header's dict literal.
#[derive(Debug)]
enum Value {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
    Other,
}

struct Lexer<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Lexer<'_> {
    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.pos).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), NpyFormatError> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(NpyFormatError::BadHeader(format!(
                "expected '{}' at byte {}",
                c as char, self.pos
            )))
        }
    }

    fn string(&mut self) -> Result<String, NpyFormatError> {
        let q = self.peek().ok_or_else(|| bad("unexpected end of header"))?;
        if q != b'\'' && q != b'"' {
            return Err(NpyFormatError::BadHeader(format!(
                "expected a quoted string at byte {}",
                self.pos
            )));
        }
        self.pos += 1;
        let start = self.pos;
        while self.pos < self.s.len() && self.s[self.pos] != q {
            if self.s[self.pos] == b'\\' {
                return Err(bad("escapes in header strings are not supported"));
            }
            self.pos += 1;
        }
        if self.pos >= self.s.len() {
            return Err(bad("unterminated string"));
        }
        let out = String::from_utf8_lossy(&self.s[start..self.pos]).into_owned();
        self.pos += 1;
        Ok(out)
    }

    fn word(&mut self) -> &[u8] {
        self.skip_ws();
        let start = self.pos;
        while self.pos < self.s.len()
            && (self.s[self.pos].is_ascii_alphanumeric() || self.s[self.pos] == b'_')
        {
            self.pos += 1;
        }
        &self.s[start..self.pos]
    }

    fn tuple(&mut self) -> Result<Vec<usize>, NpyFormatError> {
        self.expect(b'(')?;
        let mut dims = Vec::new();
        loop {
            match self.peek() {
                Some(b')') => {
                    self.pos += 1;
                    return Ok(dims);
                }
                Some(c) if c.is_ascii_digit() => {
                    let w = self.word();
                    // Python 2 era writers emitted `3L` for long integers.
                    let digits = w.strip_suffix(b"L").unwrap_or(w);
                    let text = std::str::from_utf8(digits).map_err(|_| bad("bad dimension"))?;
                    let n: usize = text.parse().map_err(|_| {
                        NpyFormatError::BadHeader(format!("dimension '{text}' is not a size"))
                    })?;
                    dims.push(n);
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b')') => {}
                        _ => return Err(bad("expected ',' or ')' in shape")),
                    }
                }
                _ => return Err(bad("shape must be a tuple of non-negative integers")),
            }
        }
    }

    /// Skips a value dictum does not interpret (nested lists or tuples, numbers).
    fn skip_value(&mut self) -> Result<(), NpyFormatError> {
        let mut depth = 0usize;
        loop {
            match self.peek() {
                None => return Err(bad("unexpected end of header")),
                Some(b'\'') | Some(b'"') => {
                    self.string()?;
                }
                Some(b'(') | Some(b'[') | Some(b'{') => {
                    depth += 1;
                    self.pos += 1;
                }
                Some(b')') | Some(b']') | Some(b'}') if depth > 0 => {
                    depth -= 1;
                    self.pos += 1;
                }
                Some(b',') | Some(b'}') if depth == 0 => return Ok(()),
                Some(_) => self.pos += 1,
            }
        }
    }

    fn value(&mut self) -> Result<Value, NpyFormatError> {
        match self.peek() {
            Some(b'\'') | Some(b'"') => Ok(Value::Str(self.string()?)),
            Some(b'(') => Ok(Value::Tuple(self.tuple()?)),
            Some(b'T') | Some(b'F') => match self.word() {
                b"True" => Ok(Value::Bool(true)),
                b"False" => Ok(Value::Bool(false)),
                _ => Err(bad("expected True or False")),
            },
            Some(_) => {
                self.skip_value()?;
                Ok(Value::Other)
            }
            None => Err(bad("unexpected end of header")),
        }
    }
}

fn parse_dict(text: &str) -> Result<(String, bool, Vec<usize>), NpyFormatError> {
    let mut lx = Lexer {
        s: text.as_bytes(),
        pos: 0,
    };
    lx.expect(b'{')?;
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    loop {
        if lx.peek() == Some(b'}') {
            break;
        }
        let key = lx.string()?;
        lx.expect(b':')?;
        let value = lx.value()?;
        match (key.as_str(), value) {
            ("descr", Value::Str(s)) => descr = Some(s),
            ("descr", _) => {
                return Err(NpyFormatError::DType(DTypeError::Unsupported(
                    "structured (record) dtype".into(),
                )));
            }
            ("fortran_order", Value::Bool(b)) => fortran = Some(b),
            ("fortran_order", _) => return Err(bad("fortran_order must be True or False")),
            ("shape", Value::Tuple(t)) => shape = Some(t),
            ("shape", _) => return Err(bad("shape must be a tuple")),
            _ => {}
        }
        match lx.peek() {
            Some(b',') => lx.pos += 1,
            Some(b'}') => {}
            _ => return Err(bad("expected ',' or '}' in header dict")),
        }
    }
    let descr = descr.ok_or_else(|| bad("missing key 'descr'"))?;
    let fortran = fortran.ok_or_else(|| bad("missing key 'fortran_order'"))?;
    let shape = shape.ok_or_else(|| bad("missing key 'shape'"))?;
    Ok((descr, fortran, shape))
}

/// Encodes a header in the smallest format version that holds it, padded so the data that
/// follows starts on a 64-byte boundary (as NumPy does).
pub fn encode_header(dtype: &DType, fortran_order: bool, shape: &[usize]) -> Vec<u8> {
    let shape_text = match shape {
        [] => "()".to_string(),
        [n] => format!("({n},)"),
        dims => format!(
            "({})",
            dims.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let dict = format!(
        "{{'descr': '{}', 'fortran_order': {}, 'shape': {}, }}",
        dtype.descr(),
        if fortran_order { "True" } else { "False" },
        shape_text
    );
    let encode = |len_size: usize, version: u8| -> Option<Vec<u8>> {
        let prefix = 8 + len_size;
        let unpadded = prefix + dict.len() + 1;
        let total = unpadded.div_ceil(ALIGN) * ALIGN;
        let header_len = total - prefix;
        if len_size == 2 && header_len > u16::MAX as usize {
            return None;
        }
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&[version, 0]);
        if len_size == 2 {
            out.extend_from_slice(&(header_len as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&(header_len as u32).to_le_bytes());
        }
        out.extend_from_slice(dict.as_bytes());
        out.resize(total - 1, b' ');
        out.push(b'\n');
        Some(out)
    };
    encode(2, 1).or_else(|| encode(4, 2)).unwrap_or_default()
}
