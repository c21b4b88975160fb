//! Pictures of results: atom grids, images side by side, loss curves.

use dictum::io::png::{Rgb, to_byte};
use dictum::{MatRef, Real};

const BORDER: [u8; 3] = [40, 40, 40];
const WHITE: [u8; 3] = [255, 255, 255];

/// The atoms of a dictionary of `p x p` patches (columns of length `p²`, row-major) as a grid
/// of tiles, each scaled so that 0 is mid-gray and its largest magnitude is black or white.
pub(crate) fn atom_grid<T: Real>(dict: MatRef<'_, T>, p: usize, scale: usize) -> Rgb {
    let m = dict.ncols();
    let per_row = (m as f64).sqrt().ceil().max(1.0) as usize;
    let rows = m.div_ceil(per_row);
    let tile = p * scale + 1;
    let mut img = Rgb::new(per_row * tile + 1, rows * tile + 1, BORDER);
    for a in 0..m {
        let col = dict.col(a);
        let peak = col.iter().fold(0.0f64, |s, v| s.max(v.into_f64().abs()));
        let (ty, tx) = (a / per_row, a % per_row);
        for k in 0..p * p {
            let v = if peak > 0.0 {
                0.5 + 0.5 * col[k].into_f64() / peak
            } else {
                0.5
            };
            let b = to_byte(v);
            let (r, c) = (k / p, k % p);
            for dy in 0..scale {
                for dx in 0..scale {
                    img.put(
                        tx * tile + 1 + c * scale + dx,
                        ty * tile + 1 + r * scale + dy,
                        [b, b, b],
                    );
                }
            }
        }
    }
    img
}

/// Grayscale images (row-major, values in [0,1]) of the same size, side by side.
pub(crate) fn side_by_side(images: &[&[f32]], width: usize, height: usize, scale: usize) -> Rgb {
    let gap = 4;
    let n = images.len();
    let mut img = Rgb::new(
        n * width * scale + (n + 1) * gap,
        height * scale + 2 * gap,
        WHITE,
    );
    for (i, pixels) in images.iter().enumerate() {
        let x0 = gap + i * (width * scale + gap);
        for r in 0..height {
            for c in 0..width {
                let b = to_byte(f64::from(pixels[r * width + c]));
                for dy in 0..scale {
                    for dx in 0..scale {
                        img.put(x0 + c * scale + dx, gap + r * scale + dy, [b, b, b]);
                    }
                }
            }
        }
    }
    img
}

/// A line plot of `values` against their index, in a frame with light grid lines at tenths
/// of the range (no text: the CSV beside it holds the numbers).
pub(crate) fn line_plot(values: &[f64]) -> Rgb {
    let (w, h, margin) = (640usize, 360usize, 20usize);
    let mut img = Rgb::new(w, h, WHITE);
    let (x0, x1, y0, y1) = (margin, w - margin, margin, h - margin);
    for i in 0..=10 {
        let y = y0 + (y1 - y0) * i / 10;
        let x = x0 + (x1 - x0) * i / 10;
        for xx in x0..=x1 {
            img.put(xx, y, [225, 225, 225]);
        }
        for yy in y0..=y1 {
            img.put(x, yy, [225, 225, 225]);
        }
    }
    for x in x0..=x1 {
        img.put(x, y0, BORDER);
        img.put(x, y1, BORDER);
    }
    for y in y0..=y1 {
        img.put(x0, y, BORDER);
        img.put(x1, y, BORDER);
    }
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return img;
    }
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let n = values.len();
    let at = |i: usize, v: f64| {
        let fx = if n > 1 {
            i as f64 / (n - 1) as f64
        } else {
            0.5
        };
        let fy = (v - lo) / span;
        (
            x0 as f64 + fx * (x1 - x0) as f64,
            y1 as f64 - fy * (y1 - y0) as f64,
        )
    };
    let blue = [31, 119, 180];
    for i in 0..n {
        let (xa, ya) = at(i, values[i]);
        let (xb, yb) = if i + 1 < n {
            at(i + 1, values[i + 1])
        } else {
            (xa, ya)
        };
        let steps = ((xb - xa).abs().max((yb - ya).abs()).ceil() as usize).max(1);
        for s in 0..=steps {
            let t = s as f64 / steps as f64;
            let (x, y) = (xa + t * (xb - xa), ya + t * (yb - ya));
            for (dx, dy) in [(0, 0), (1, 0), (0, 1)] {
                img.put(x.round() as usize + dx, y.round() as usize + dy, blue);
            }
        }
        for dx in 0..3 {
            for dy in 0..3 {
                img.put(
                    xa.round() as usize + dx - 1,
                    ya.round() as usize + dy - 1,
                    blue,
                );
            }
        }
    }
    img
}

/// Scatter plots side by side in a grid, `per_row` panels per row: panel `k` draws the
/// points `(x, y)` of `panels[k]`, each panel scaled to its own ranges.
pub(crate) fn scatter_panels(panels: &[Vec<(f64, f64)>], per_row: usize) -> Rgb {
    let (pw, ph, gap) = (240usize, 160usize, 8usize);
    let per_row = per_row.max(1);
    let rows = panels.len().div_ceil(per_row).max(1);
    let mut img = Rgb::new(per_row * (pw + gap) + gap, rows * (ph + gap) + gap, WHITE);
    let blue = [31, 119, 180];
    for (k, pts) in panels.iter().enumerate() {
        let (ox, oy) = (
            gap + (k % per_row) * (pw + gap),
            gap + (k / per_row) * (ph + gap),
        );
        for x in ox..ox + pw {
            img.put(x, oy, BORDER);
            img.put(x, oy + ph - 1, BORDER);
        }
        for y in oy..oy + ph {
            img.put(ox, y, BORDER);
            img.put(ox + pw - 1, y, BORDER);
        }
        let range = |f: &dyn Fn(&(f64, f64)) -> f64| {
            let lo = pts.iter().map(f).fold(f64::INFINITY, f64::min);
            let hi = pts.iter().map(f).fold(f64::NEG_INFINITY, f64::max);
            (lo, if hi > lo { hi - lo } else { 1.0 })
        };
        let (xl, xs) = range(&|p| p.0);
        let (yl, ys) = range(&|p| p.1);
        for p in pts {
            let x = ox + 2 + ((p.0 - xl) / xs * (pw - 5) as f64) as usize;
            let y = oy + ph - 3 - ((p.1 - yl) / ys * (ph - 5) as f64) as usize;
            img.put(x, y, blue);
        }
    }
    img
}

/// Heat maps side by side: panel `k` shows `maps[k]` (`side x side`, row-major; NaN is
/// outside the domain, drawn white) on a blue–white–red scale symmetric about 0.
pub(crate) fn heat_panels(maps: &[Vec<f64>], side: usize, per_row: usize) -> Rgb {
    let (scale, gap) = (3usize, 6usize);
    let per_row = per_row.max(1);
    let rows = maps.len().div_ceil(per_row).max(1);
    let tile = side * scale;
    let mut img = Rgb::new(
        per_row * (tile + gap) + gap,
        rows * (tile + gap) + gap,
        WHITE,
    );
    for (k, map) in maps.iter().enumerate() {
        let (ox, oy) = (
            gap + (k % per_row) * (tile + gap),
            gap + (k / per_row) * (tile + gap),
        );
        let peak = map
            .iter()
            .filter(|v| v.is_finite())
            .fold(0f64, |m, v| m.max(v.abs()))
            .max(f64::MIN_POSITIVE);
        for r in 0..side {
            for c in 0..side {
                let v = map[r * side + c];
                let color = if !v.is_finite() {
                    WHITE
                } else {
                    let t = (v / peak).clamp(-1.0, 1.0);
                    if t >= 0.0 {
                        let f = to_byte(1.0 - t);
                        [255, f, f]
                    } else {
                        let f = to_byte(1.0 + t);
                        [f, f, 255]
                    }
                };
                for dy in 0..scale {
                    for dx in 0..scale {
                        img.put(ox + c * scale + dx, oy + r * scale + dy, color);
                    }
                }
            }
        }
    }
    img
}
