// outer_products.wgsl — the partial sums of dst += U·Vᵀ for sparse U (p x n) and V (q x n),
// f32 (the SMT's Σ α·αᵀ and Σ α·(Lα)ᵀ). dst is p x q column-major; U is in CSC form (u_ptr, u_rows,
// u_vals); V is given by its rows, as the CSC form of Vᵀ (vt_ptr, vt_rows = the columns k
// where row b of V is non-zero, ascending, vt_vals).
//
// Row b of V is split into `groups` consecutive segments of its k, so that small sums still
// occupy the device; invocation (b, g) (b = x·64 + local, g = y) adds, for every k of segment
// g in ascending order and every non-zero (a, x) of column k of U, x·V[b, k] to column b of
// its own partial sum parts[g] (p x q, zeroed before). partial_sums.wgsl then adds the
// partials to dst in group order. No two invocations write the same word, and every sum has
// a fixed order, so the result does not depend on scheduling.

struct Params {
    p: u32,
    q: u32,
    groups: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> prm: Params;
@group(0) @binding(1) var<storage, read> u_ptr: array<u32>;
@group(0) @binding(2) var<storage, read> u_rows: array<u32>;
@group(0) @binding(3) var<storage, read> u_vals: array<f32>;
@group(0) @binding(4) var<storage, read> vt_ptr: array<u32>;
@group(0) @binding(5) var<storage, read> vt_rows: array<u32>;
@group(0) @binding(6) var<storage, read> vt_vals: array<f32>;
@group(0) @binding(7) var<storage, read_write> parts: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let b = wg.x * 64u + lid.x;
    let g = wg.y;
    if (b >= prm.q || g >= prm.groups) {
        return;
    }
    let col = (g * prm.q + b) * prm.p;
    let t0 = vt_ptr[b];
    let len = vt_ptr[b + 1u] - t0;
    for (var t = t0 + len * g / prm.groups; t < t0 + len * (g + 1u) / prm.groups; t++) {
        let k = vt_rows[t];
        let y = vt_vals[t];
        for (var s = u_ptr[k]; s < u_ptr[k + 1u]; s++) {
            let at = col + u_rows[s];
            parts[at] = parts[at] + u_vals[s] * y;
        }
    }
}
