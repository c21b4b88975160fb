//! Fuzzes the `.npy` header parser and decoder with arbitrary bytes:
//! `cargo +nightly fuzz run npy_header` (from the repository root).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(header) = dictum_io::npy::parse_header(data) {
        // A header that parses must describe a size that does not overflow.
        let _ = header.data_len();
        if let Ok(array) = dictum_io::npy::from_bytes(data) {
            // Whatever decodes must encode again.
            let _ = dictum_io::npy::to_bytes(&array);
        }
    }
});
