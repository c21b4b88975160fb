// gemm.wgsl — C = op(A)·op(B), f32, every matrix column-major.
//
// Layout: op(A) is m x k, op(B) is k x n, C is m x n with leading dimension ldc. A is stored
// with leading dimension lda (its rows), B with ldb; trans_a / trans_b = 1 read them
// transposed (op(A)[i, p] = A[p + i·lda]). C is overwritten (no accumulation).
//
// Tiling: a workgroup of 16 x 16 invocations computes a 64 x 64 tile of C, each invocation a
// 4 x 4 register block (rows lx + 16·i, columns ly + 16·j, so that neighbouring invocations
// read neighbouring words of workgroup memory). K advances 16 at a time through two
// workgroup-memory tiles, loaded so that consecutive invocations read consecutive words of A
// and B in whichever orientation they are stored. Out-of-range elements load as zero.

struct Params {
    m: u32,
    n: u32,
    k: u32,
    lda: u32,
    ldb: u32,
    ldc: u32,
    trans_a: u32,
    trans_b: u32,
    // Offsets (in elements) of the first entry, so that a chunk of columns of B and C can
    // be processed without a copy.
    offset_b: u32,
    offset_c: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

const TILE: u32 = 64u;
const TK: u32 = 16u;

// as_[kk * TILE + i] = op(A)[row0 + i, k0 + kk]; bs[kk * TILE + j] = op(B)[k0 + kk, col0 + j].
var<workgroup> as_: array<f32, 1024>;
var<workgroup> bs: array<f32, 1024>;

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

@compute @workgroup_size(16, 16, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let row0 = wg.x * TILE;
    let col0 = wg.y * TILE;
    let lx = lid.x;
    let ly = lid.y;
    let t = lx + 16u * ly;

    var acc: array<f32, 16>;
    for (var z = 0u; z < 16u; z++) {
        acc[z] = 0.0;
    }

    for (var k0 = 0u; k0 < p.k; k0 += TK) {
        for (var e = 0u; e < 4u; e++) {
            let idx = t + 256u * e;
            // Coalesced: consecutive t read consecutive words of the stored matrix.
            if (p.trans_a == 0u) {
                let i = idx % TILE;
                let kk = idx / TILE;
                as_[kk * TILE + i] = load_a(i, kk, row0, k0);
            } else {
                let kk = idx % TK;
                let i = idx / TK;
                as_[kk * TILE + i] = load_a(i, kk, row0, k0);
            }
            if (p.trans_b == 0u) {
                let kk = idx % TK;
                let j = idx / TK;
                bs[kk * TILE + j] = load_b(kk, j, k0, col0);
            } else {
                let j = idx % TILE;
                let kk = idx / TILE;
                bs[kk * TILE + j] = load_b(kk, j, k0, col0);
            }
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TK; kk++) {
            var av: array<f32, 4>;
            var bv: array<f32, 4>;
            for (var i = 0u; i < 4u; i++) {
                av[i] = as_[kk * TILE + lx + 16u * i];
                bv[i] = bs[kk * TILE + ly + 16u * i];
            }
            for (var j = 0u; j < 4u; j++) {
                for (var i = 0u; i < 4u; i++) {
                    acc[i + 4u * j] = fma(av[i], bv[j], acc[i + 4u * j]);
                }
            }
        }
        workgroupBarrier();
    }

    for (var j = 0u; j < 4u; j++) {
        let col = col0 + ly + 16u * j;
        if (col >= p.n) {
            continue;
        }
        for (var i = 0u; i < 4u; i++) {
            let row = row0 + lx + 16u * i;
            if (row < p.m) {
                c[p.offset_c + row + col * p.ldc] = acc[i + 4u * j];
            }
        }
    }
}
