// gemm_common.wgsl — what gemm.wgsl and gemm_large.wgsl share, prepended to each when the
// pipeline is built: their parameters, bindings, and the guarded loads of op(A) and op(B).
//
// Layout: op(A) is m x k, op(B) is k x n, C is m x n with leading dimension ldc, every matrix
// column-major. A is stored with leading dimension lda (its rows), B with ldb; trans_a /
// trans_b = 1 read them transposed (op(A)[i, p] = A[p + i·lda]). C is overwritten (no
// accumulation). offset_b / offset_c shift the first entry of B and C, so that a chunk of
// columns is processed without a copy. Out-of-range elements load as zero.

struct Params {
    m: u32,
    n: u32,
    k: u32,
    lda: u32,
    ldb: u32,
    ldc: u32,
    trans_a: u32,
    trans_b: u32,
    offset_b: u32,
    offset_c: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

fn load_a(i: u32, kk: u32, row0: u32, k0: u32) -> f32 {
    let r = row0 + i;
    let q = k0 + kk;
    if (r >= p.m || q >= p.k) {
        return 0.0;
    }
    if (p.trans_a == 0u) {
        return a[r + q * p.lda];
    }
    return a[q + r * p.lda];
}

fn load_b(kk: u32, j: u32, k0: u32, col0: u32) -> f32 {
    let q = k0 + kk;
    let cidx = col0 + j;
    if (q >= p.k || cidx >= p.n) {
        return 0.0;
    }
    if (p.trans_b == 0u) {
        return b[p.offset_b + q + cidx * p.ldb];
    }
    return b[p.offset_b + cidx + q * p.ldb];
}
