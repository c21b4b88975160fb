// nmf_update.wgsl — the multiplicative updates of a non-negative factor X (rows x cols),
// f32, one invocation per entry (entry e is (e mod rows, e div rows), numbered
// (x + y·65535)·256 + local).
//
// Every operand has its own strides: X[i, j] at x[i·x_rs + j·x_cs], likewise num and den.
//   mode 0 (Frobenius, Lee & Seung): x ← x·max(0, num − l1) / (den + l2·x + eps)
//   mode 1 (Kullback–Leibler):       x ← x·num / (sums[k] + l1 + l2·x + eps), where k is the
//                                    factor's component: the row for H, the column for W
//                                    (`sums_by_col`), and sums holds Wᵀ1 or H1.

struct Params {
    rows: u32,
    cols: u32,
    x_rs: u32,
    x_cs: u32,
    num_rs: u32,
    num_cs: u32,
    den_rs: u32,
    den_cs: u32,
    mode: u32,
    sums_by_col: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> num: array<f32>;
// The denominators (mode 0) or the component sums (mode 1).
@group(0) @binding(2) var<storage, read> den: array<f32>;
// [l1, l2, eps]
@group(0) @binding(3) var<storage, read> pen: array<f32>;
@group(0) @binding(4) var<storage, read_write> x: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let e = (wg.x + wg.y * 65535u) * 256u + lid.x;
    if (e >= p.rows * p.cols) {
        return;
    }
    let i = e % p.rows;
    let j = e / p.rows;
    let l1 = pen[0];
    let l2 = pen[1];
    let eps = pen[2];
    let at = i * p.x_rs + j * p.x_cs;
    let xv = x[at];
    let nv = num[i * p.num_rs + j * p.num_cs];
    if (p.mode == 0u) {
        let dv = den[i * p.den_rs + j * p.den_cs];
        x[at] = xv * max(nv - l1, 0.0) / (dv + l2 * xv + eps);
    } else {
        let k = select(i, j, p.sums_by_col == 1u);
        x[at] = xv * nv / (den[k] + l1 + l2 * xv + eps);
    }
}
