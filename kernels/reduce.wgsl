// reduce.wgsl — partial sums over `len` entries of one or two arrays, f32, for the
// statistics of an iteration: each of the dispatch's workgroups (256 invocations) strides
// over the entries from its own start, reduces its share in workgroup memory in a fixed
// order, and writes one partial sum to out[offset + workgroup]; the host adds the partials
// in f64. What is summed (mode):
//   0: a·b        1: a        2: a²        3: 1 where a ≠ 0

struct Params {
    len: u32,
    mode: u32,
    offset: u32,
    groups: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    var s: f32 = 0.0;
    let stride = p.groups * 256u;
    for (var e = wg.x * 256u + lid.x; e < p.len; e += stride) {
        let x = a[e];
        switch p.mode {
            case 0u: {
                s = fma(x, b[e], s);
            }
            case 1u: {
                s += x;
            }
            case 2u: {
                s = fma(x, x, s);
            }
            default: {
                if (x != 0.0) {
                    s += 1.0;
                }
            }
        }
    }
    partial[lid.x] = s;
    workgroupBarrier();
    for (var h = 128u; h > 0u; h = h / 2u) {
        if (lid.x < h) {
            partial[lid.x] = partial[lid.x] + partial[lid.x + h];
        }
        workgroupBarrier();
    }
    if (lid.x == 0u) {
        out[p.offset + wg.x] = partial[0];
    }
}
