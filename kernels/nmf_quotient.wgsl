// nmf_quotient.wgsl — the Kullback–Leibler rule's elementwise terms, f32, over `len` entries
// of arrays of the same layout (dense V and W·H, or the non-zeros of a sparse V and W·H at
// them); entries are numbered (x + y·65535)·256 + local.
//   mode 0: q = v / (wh + eps) where v ≠ 0, else 0 (what the updates multiply by)
//   mode 1: q = v·ln(v / (wh + eps)) − v where v > 0, else 0 (the divergence's terms, summed
//           by reduce.wgsl). Kept out of the reduction so that a device whose f64 shaders
//           lack a logarithm declines only the KL rule in f64.

struct Params {
    len: u32,
    mode: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> v: array<f32>;
@group(0) @binding(2) var<storage, read> wh: array<f32>;
// [eps]
@group(0) @binding(3) var<storage, read> pen: array<f32>;
@group(0) @binding(4) var<storage, read_write> q: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let e = (wg.x + wg.y * 65535u) * 256u + lid.x;
    if (e >= p.len) {
        return;
    }
    let x = v[e];
    var out: f32 = 0.0;
    if (p.mode == 0u && x != 0.0) {
        out = x / (wh[e] + pen[0]);
    } else if (p.mode == 1u && x > 0.0) {
        out = x * log(x / (wh[e] + pen[0])) - x;
    }
    q[e] = out;
}
