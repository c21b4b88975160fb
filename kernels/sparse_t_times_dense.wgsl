// sparse_t_times_dense.wgsl — C = Xᵀ·B, f32: X sparse m x n in CSC form (col_ptr: n + 1
// entries, rows/vals: one per non-zero), B dense m x q read as b[row·b_rs + col·b_cs]
// (column-major with leading dimension ldb: b_rs = 1, b_cs = ldb; a transposed matrix read
// in place: the other way round), C dense n x q (column-major, leading dimension n). With X
// replaced by the CSC form of Xᵀ, the same kernel computes X·B.
//
// Invocation (j, col) computes C[j, col] = Σ_p vals[p]·B[rows[p], col] over column j of X,
// in stored order. Workgroups of 64 take 64 consecutive j; output columns are numbered
// y + z·65535.

struct Params {
    n: u32,
    q: u32,
    b_rs: u32,
    b_cs: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> col_ptr: array<u32>;
@group(0) @binding(3) var<storage, read> rows: array<u32>;
@group(0) @binding(4) var<storage, read> vals: array<f32>;
@group(0) @binding(5) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x;
    let col = gid.y + gid.z * 65535u;
    if (j >= p.n || col >= p.q) {
        return;
    }
    var s: f32 = 0.0;
    for (var t = col_ptr[j]; t < col_ptr[j + 1u]; t++) {
        s = fma(vals[t], b[rows[t] * p.b_rs + col * p.b_cs], s);
    }
    c[j + col * p.n] = s;
}
