// outer_products.wgsl — dst += U·Vᵀ for sparse U (p x n) and V (q x n), f32 (the SMT's
// Σ α·αᵀ and Σ α·(Lα)ᵀ). dst is p x q column-major; U is in CSC form (u_ptr, u_rows,
// u_vals); V is given by its rows, as the CSC form of Vᵀ (vt_ptr, vt_rows = the columns k
// where row b of V is non-zero, ascending, vt_vals).
//
// One invocation per column b of dst (b = (x + y·65535)·64 + local): for every k in row b
// of V, in ascending order, and every non-zero (a, x) of column k of U, dst[a, b] += x·V[b, k].
// Each entry adds its terms in order of k, as the CPU's kernel does, and no two invocations
// write the same entry, so the sum does not depend on scheduling.

struct Params {
    p: u32,
    q: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> prm: Params;
@group(0) @binding(1) var<storage, read> u_ptr: array<u32>;
@group(0) @binding(2) var<storage, read> u_rows: array<u32>;
@group(0) @binding(3) var<storage, read> u_vals: array<f32>;
@group(0) @binding(4) var<storage, read> vt_ptr: array<u32>;
@group(0) @binding(5) var<storage, read> vt_rows: array<u32>;
@group(0) @binding(6) var<storage, read> vt_vals: array<f32>;
@group(0) @binding(7) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let b = (wg.x + wg.y * 65535u) * 64u + lid.x;
    if (b >= prm.q) {
        return;
    }
    let col = b * prm.p;
    for (var t = vt_ptr[b]; t < vt_ptr[b + 1u]; t++) {
        let k = vt_rows[t];
        let y = vt_vals[t];
        for (var s = u_ptr[k]; s < u_ptr[k + 1u]; s++) {
            let at = col + u_rows[s];
            dst[at] = dst[at] + u_vals[s] * y;
        }
    }
}
