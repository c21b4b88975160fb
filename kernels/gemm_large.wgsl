// gemm_large.wgsl — C = op(A)·op(B), f32, every matrix column-major: the kernel for large
// products (gemm.wgsl, with 64 x 64 tiles, serves small ones). Parameters, bindings and the
// guarded loads are gemm_common.wgsl's, prepended when the pipeline is built.
//
// Tiling: a workgroup of 16 x 16 invocations computes a 128 x 128 tile of C, each invocation
// an 8 x 8 register block: rows 4·lx + {0..3} and 64 + 4·lx + {0..3}, columns likewise with
// ly, so that its operands are two 4-wide vectors of each workgroup-memory tile per step
// (16 loads for 64 FMAs, where gemm.wgsl's 4 x 4 blocks do 8 for 16). K advances 8 at a
// time; the tiles of A and B are loaded so that consecutive invocations read consecutive
// words of the stored matrices in either orientation.

const TILE: u32 = 128u;
const TK: u32 = 8u;

// as_[kk][i / 4] holds op(A)[row0 + i, k0 + kk] for i in 0..128, as 32 vectors of 4 rows;
// bs likewise for the tile's columns of op(B).
var<workgroup> as_: array<array<vec4<f32>, 32>, 8>;
var<workgroup> bs: array<array<vec4<f32>, 32>, 8>;

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

    var acc: array<vec4<f32>, 16>;
    for (var z = 0u; z < 16u; z++) {
        acc[z] = vec4<f32>(0.0);
    }

    for (var k0 = 0u; k0 < p.k; k0 += TK) {
        // 1024 entries of each tile, 4 per invocation, each invocation one 4-vector.
        if (p.trans_a == 0u) {
            // Consecutive t read consecutive rows of a column of A.
            let i4 = t % 32u;
            let kk = t / 32u;
            as_[kk][i4] = vec4<f32>(
                load_a(4u * i4, kk, row0, k0),
                load_a(4u * i4 + 1u, kk, row0, k0),
                load_a(4u * i4 + 2u, kk, row0, k0),
                load_a(4u * i4 + 3u, kk, row0, k0),
            );
        } else {
            // A stored transposed: consecutive t read along k.
            let kk = t % 8u;
            let i4 = t / 8u;
            as_[kk][i4] = vec4<f32>(
                load_a(4u * i4, kk, row0, k0),
                load_a(4u * i4 + 1u, kk, row0, k0),
                load_a(4u * i4 + 2u, kk, row0, k0),
                load_a(4u * i4 + 3u, kk, row0, k0),
            );
        }
        if (p.trans_b == 0u) {
            let kk = t % 8u;
            let j4 = t / 8u;
            bs[kk][j4] = vec4<f32>(
                load_b(kk, 4u * j4, k0, col0),
                load_b(kk, 4u * j4 + 1u, k0, col0),
                load_b(kk, 4u * j4 + 2u, k0, col0),
                load_b(kk, 4u * j4 + 3u, k0, col0),
            );
        } else {
            let j4 = t % 32u;
            let kk = t / 32u;
            bs[kk][j4] = vec4<f32>(
                load_b(kk, 4u * j4, k0, col0),
                load_b(kk, 4u * j4 + 1u, k0, col0),
                load_b(kk, 4u * j4 + 2u, k0, col0),
                load_b(kk, 4u * j4 + 3u, k0, col0),
            );
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TK; kk++) {
            let a0 = as_[kk][lx];
            let a1 = as_[kk][16u + lx];
            let b0 = bs[kk][ly];
            let b1 = bs[kk][16u + ly];
            // acc[c] holds rows {0..3} (c < 8) or {4..7} (c ≥ 8) of the block's column c % 8.
            acc[0] = fma(a0, vec4<f32>(b0.x), acc[0]);
            acc[1] = fma(a0, vec4<f32>(b0.y), acc[1]);
            acc[2] = fma(a0, vec4<f32>(b0.z), acc[2]);
            acc[3] = fma(a0, vec4<f32>(b0.w), acc[3]);
            acc[4] = fma(a0, vec4<f32>(b1.x), acc[4]);
            acc[5] = fma(a0, vec4<f32>(b1.y), acc[5]);
            acc[6] = fma(a0, vec4<f32>(b1.z), acc[6]);
            acc[7] = fma(a0, vec4<f32>(b1.w), acc[7]);
            acc[8] = fma(a1, vec4<f32>(b0.x), acc[8]);
            acc[9] = fma(a1, vec4<f32>(b0.y), acc[9]);
            acc[10] = fma(a1, vec4<f32>(b0.z), acc[10]);
            acc[11] = fma(a1, vec4<f32>(b0.w), acc[11]);
            acc[12] = fma(a1, vec4<f32>(b1.x), acc[12]);
            acc[13] = fma(a1, vec4<f32>(b1.y), acc[13]);
            acc[14] = fma(a1, vec4<f32>(b1.z), acc[14]);
            acc[15] = fma(a1, vec4<f32>(b1.w), acc[15]);
        }
        workgroupBarrier();
    }

    // Column c of the block: 4·ly + c (c < 4) or 64 + 4·ly + (c − 4); rows 4·lx + r or
    // 64 + 4·lx + r.
    for (var cb = 0u; cb < 8u; cb++) {
        var col = col0 + 4u * ly + cb;
        if (cb >= 4u) {
            col = col0 + 64u + 4u * ly + (cb - 4u);
        }
        if (col >= p.n) {
            continue;
        }
        for (var half = 0u; half < 2u; half++) {
            let v = acc[cb + 8u * half];
            let rbase = row0 + 64u * half + 4u * lx;
            for (var r = 0u; r < 4u; r++) {
                let row = rbase + r;
                if (row < p.m) {
                    c[p.offset_c + row + col * p.ldc] = v[r];
                }
            }
        }
    }
}
