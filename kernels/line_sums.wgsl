// line_sums.wgsl — out[l] = Σ_t a[l·line_stride + t·step] for t < len: the sums of the
// columns or of the rows of a matrix (a line is one of them), f32. One workgroup of 256
// invocations per line (line x + y·65535): each sums a strided share, then a tree in
// workgroup memory adds the 256 partial sums in a fixed order.

struct Params {
    lines: u32,
    len: u32,
    line_stride: u32,
    step: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let line = wg.x + wg.y * 65535u;
    if (line >= p.lines) {
        return;
    }
    var s: f32 = 0.0;
    for (var t = lid.x; t < p.len; t += 256u) {
        s += a[line * p.line_stride + t * p.step];
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
        out[line] = partial[0];
    }
}
