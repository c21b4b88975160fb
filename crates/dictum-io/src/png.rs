//! PNG output for pictures of results (atom grids, denoised images, loss curves), written
//! atomically like every other output.

use std::path::Path;

use crate::atomic::write_atomic;
use crate::error::{IoError, Result};

/// An 8-bit RGB picture, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rgb {
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// `3·width·height` bytes, R, G, B per pixel.
    pub pixels: Vec<u8>,
}

impl Rgb {
    /// A `width x height` picture filled with `color`.
    pub fn new(width: usize, height: usize, color: [u8; 3]) -> Self {
        Self {
            width,
            height,
            pixels: color.repeat(width * height),
        }
    }

    /// Sets pixel `(x, y)` (column, row); outside the picture it does nothing.
    pub fn put(&mut self, x: usize, y: usize, color: [u8; 3]) {
        if x < self.width && y < self.height {
            let at = 3 * (y * self.width + x);
            self.pixels[at..at + 3].copy_from_slice(&color);
        }
    }
}

/// Maps a value in `[0, 1]` (clamped) to a byte.
pub fn to_byte(v: f64) -> u8 {
    (v.clamp(0.0, 1.0) * 255.0).round() as u8
}

/// Writes an RGB picture as a PNG file, atomically.
pub fn write_rgb(path: &Path, img: &Rgb) -> Result<()> {
    let shape_err = |problem: String| IoError::Shape {
        path: path.to_path_buf(),
        shape: vec![img.height, img.width, 3],
        problem,
    };
    if img.width == 0 || img.height == 0 || img.pixels.len() != 3 * img.width * img.height {
        return Err(shape_err(format!(
            "holds {} bytes; a PNG needs 3·width·height > 0",
            img.pixels.len()
        )));
    }
    let (w, h) = (
        u32::try_from(img.width).map_err(|_| shape_err("is too wide for PNG".into()))?,
        u32::try_from(img.height).map_err(|_| shape_err("is too tall for PNG".into()))?,
    );
    write_atomic(path, |out| {
        let mut enc = png::Encoder::new(out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let encode_err = |e: png::EncodingError| IoError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other(e),
        };
        let mut writer = enc.write_header().map_err(encode_err)?;
        writer.write_image_data(&img.pixels).map_err(encode_err)?;
        writer.finish().map_err(encode_err)
    })
}

/// Writes a grayscale image (row-major values in `[0, 1]`, clamped) as a PNG, each pixel
/// drawn as a `scale x scale` block.
pub fn write_gray(
    path: &Path,
    width: usize,
    height: usize,
    values: &[f32],
    scale: usize,
) -> Result<()> {
    let s = scale.max(1);
    let mut img = Rgb::new(width * s, height * s, [0, 0, 0]);
    for r in 0..height {
        for c in 0..width {
            let v = to_byte(f64::from(values.get(r * width + c).copied().unwrap_or(0.0)));
            for dy in 0..s {
                for dx in 0..s {
                    img.put(c * s + dx, r * s + dy, [v, v, v]);
                }
            }
        }
    }
    write_rgb(path, &img)
}
