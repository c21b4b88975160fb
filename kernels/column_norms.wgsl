// column_norms.wgsl — out[j] = ‖a_j‖₂ for every column j of a column-major rows x cols
// matrix with leading dimension lda, f32.
//
// One workgroup of 64 invocations per column (workgroup (x, y) handles column x + y·65535,
// since one dispatch dimension holds at most 65535 workgroups): each invocation sums the
// squares of a strided share of the column, then a tree reduction in workgroup memory adds
// the 64 partial sums in a fixed order, so the result does not depend on scheduling.

struct Params {
    rows: u32,
    cols: u32,
    lda: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(64, 1, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let col = wg.x + wg.y * 65535u;
    var s: f32 = 0.0;
    if (col < p.cols) {
        for (var i = lid.x; i < p.rows; i += 64u) {
            let v = a[i + col * p.lda];
            s = fma(v, v, s);
        }
    }
    partial[lid.x] = s;
    workgroupBarrier();
    for (var w = 32u; w > 0u; w = w / 2u) {
        if (lid.x < w) {
            partial[lid.x] = partial[lid.x] + partial[lid.x + w];
        }
        workgroupBarrier();
    }
    if (lid.x == 0u && col < p.cols) {
        out[col] = sqrt(partial[0]);
    }
}
