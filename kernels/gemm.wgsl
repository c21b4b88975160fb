// gemm.wgsl — C = op(A)·op(B), f32, every matrix column-major, for small products
// (gemm_large.wgsl serves large ones); its parameters, bindings and loads are in
// gemm_common.wgsl, prepended when the pipeline is built.
//
// Tiling: a workgroup of 16 x 16 invocations computes a 64 x 64 tile of C, each invocation a
// 4 x 4 register block (rows lx + 16·i, columns ly + 16·j, so that neighbouring invocations
// read neighbouring words of workgroup memory). K advances 16 at a time through two
// workgroup-memory tiles, loaded so that consecutive invocations read consecutive words of A
// and B in whichever orientation they are stored. Out-of-range elements load as zero.

const TILE: u32 = 64u;
const TK: u32 = 16u;

// as_[kk * TILE + i] = op(A)[row0 + i, k0 + kk]; bs[kk * TILE + j] = op(B)[k0 + kk, col0 + j].
var<workgroup> as_: array<f32, 1024>;
var<workgroup> bs: array<f32, 1024>;

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
