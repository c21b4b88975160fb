// nmf_hals.wgsl — HALS sweeps on the rows of a non-negative factor, f32.
//
// X is len x r (row i, column k at x[i·x_rs + k·x_cs]: W as stored, or H read as Hᵀ), num
// is len x r (num[i·num_rs + k·num_cs]: V·Hᵀ or Vᵀ·W), gram is r x r column-major (H·Hᵀ or
// WᵀW). Each invocation owns one row and runs `sweeps` sweeps over its r entries in order:
//   x_k ← max(0, x_k + (num_k − l1 − Σ_t gram[t, k]·x_t − l2·x_k) / (gram[k, k] + l2)),
// each entry seeing the ones already updated (Cichocki & Phan 2009); a column whose
// denominator is not positive becomes zero, as on the CPU. Rows are independent, so the
// result does not depend on how invocations are scheduled. Rows are numbered
// x + y·65535·64 (wrapped grid).

struct Params {
    len: u32,
    r: u32,
    sweeps: u32,
    x_rs: u32,
    x_cs: u32,
    num_rs: u32,
    num_cs: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> gram: array<f32>;
@group(0) @binding(2) var<storage, read> num: array<f32>;
// [l1, l2]
@group(0) @binding(3) var<storage, read> pen: array<f32>;
@group(0) @binding(4) var<storage, read_write> x: array<f32>;

const MAXR: u32 = 128u;

@compute @workgroup_size(64, 1, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let i = (wg.x + wg.y * 65535u) * 64u + lid.x;
    if (i >= p.len) {
        return;
    }
    let r = p.r;
    let l1 = pen[0];
    let l2 = pen[1];
    var row: array<f32, MAXR>;
    for (var k = 0u; k < r; k++) {
        row[k] = x[i * p.x_rs + k * p.x_cs];
    }
    for (var s = 0u; s < p.sweeps; s++) {
        for (var k = 0u; k < r; k++) {
            let denom = gram[k + k * r] + l2;
            if (!(denom > 0.0)) {
                row[k] = 0.0;
                continue;
            }
            var acc: f32 = num[i * p.num_rs + k * p.num_cs] - l1;
            for (var t = 0u; t < r; t++) {
                acc = fma(-gram[t + k * r], row[t], acc);
            }
            let v = row[k] + (acc - l2 * row[k]) / denom;
            row[k] = max(v, 0.0);
        }
    }
    for (var k = 0u; k < r; k++) {
        x[i * p.x_rs + k * p.x_cs] = row[k];
    }
}
