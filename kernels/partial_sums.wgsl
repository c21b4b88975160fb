// partial_sums.wgsl — out[e] (+)= Σ_g parts[g·len + e] for e < len, f32: partial results
// computed by groups of invocations (K-SVD's X·Vᵀ, the outer-product sums) added in group
// order, one invocation per entry (e = (x + y·65535)·256 + local). With add = 1 the sum is
// added to what out holds; with add = 0 it replaces it.

struct Params {
    len: u32,
    groups: u32,
    add: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> parts: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let e = (wg.x + wg.y * 65535u) * 256u + lid.x;
    if (e >= p.len) {
        return;
    }
    var s: f32 = 0.0;
    for (var g = 0u; g < p.groups; g++) {
        s += parts[g * p.len + e];
    }
    if (p.add == 1u) {
        out[e] = out[e] + s;
    } else {
        out[e] = s;
    }
}
