// sddmm.wgsl — (A·B) at the non-zeros of a sparse matrix S, f32: for every stored entry t of
// S (CSC: col_ptr, rows), out[t] = Σ_k A[rows[t], k]·B[k, c] where c is t's column. A is
// read as a[q·a_rs + k·a_cs], B as b[k·b_rs + c·b_cs], so the same kernel serves S = V
// (A = W, B = H) and S = Vᵀ (A = Hᵀ, B = Wᵀ, both read in place). One invocation per column
// of S (x + y·65535·64), its entries in stored order.

struct Params {
    cols: u32,
    r: u32,
    a_rs: u32,
    a_cs: u32,
    b_rs: u32,
    b_cs: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> col_ptr: array<u32>;
@group(0) @binding(4) var<storage, read> rows: array<u32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let c = (wg.x + wg.y * 65535u) * 64u + lid.x;
    if (c >= p.cols) {
        return;
    }
    for (var t = col_ptr[c]; t < col_ptr[c + 1u]; t++) {
        let q = rows[t];
        var s: f32 = 0.0;
        for (var k = 0u; k < p.r; k++) {
            s = fma(a[q * p.a_rs + k * p.a_cs], b[k * p.b_rs + c * p.b_cs], s);
        }
        out[t] = s;
    }
}
