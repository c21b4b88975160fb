// dense_times_sparse.wgsl — C = A·X, f32: A dense d x m (column-major, leading dimension
// lda), X sparse m x n in CSC form (col_ptr: n + 1 entries, rows/vals: one per non-zero), C
// dense d x n (column-major, leading dimension d).
//
// Invocation (i, j) computes C[i, j] = Σ_p vals[p]·A[i, rows[p]] over column j's non-zeros,
// in their stored order (so the sum's order is fixed). Workgroups of 64 run down a column of
// C, reading neighbouring words of A; columns j are numbered y + z·65535 (one dispatch
// dimension holds at most 65535 workgroups).

struct Params {
    d: u32,
    n: u32,
    lda: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> col_ptr: array<u32>;
@group(0) @binding(3) var<storage, read> rows: array<u32>;
@group(0) @binding(4) var<storage, read> vals: array<f32>;
@group(0) @binding(5) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    let j = gid.y + gid.z * 65535u;
    if (i >= p.d || j >= p.n) {
        return;
    }
    var s: f32 = 0.0;
    for (var q = col_ptr[j]; q < col_ptr[j + 1u]; q++) {
        s = fma(vals[q], a[i + rows[q] * p.lda], s);
    }
    c[i + j * p.d] = s;
}
