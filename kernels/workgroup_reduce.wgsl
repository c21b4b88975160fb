// workgroup_reduce.wgsl — the reductions pursuit.wgsl and selection.wgsl share, prepended
// to each when the pipeline is built (the including file defines WG, its invocations per
// workgroup, and NONE, the index of no atom). Both leave their result in red_v[0] (and
// red_i[0]) and add in a fixed order, so results do not depend on scheduling.

var<workgroup> red_v: array<f32, WG>;
var<workgroup> red_i: array<u32, WG>;

// The workgroup's best (value, index): larger value first, ties to the lower index.
// Invocations with no candidate pass index NONE, which never wins over a candidate.
fn best_of(v: f32, i: u32, lid: u32) {
    red_v[lid] = v;
    red_i[lid] = i;
    workgroupBarrier();
    for (var h = WG / 2u; h > 0u; h = h / 2u) {
        if (lid < h) {
            let v2 = red_v[lid + h];
            let i2 = red_i[lid + h];
            let v1 = red_v[lid];
            if (i2 != NONE && (red_i[lid] == NONE || v2 > v1 || (v2 == v1 && i2 < red_i[lid]))) {
                red_v[lid] = v2;
                red_i[lid] = i2;
            }
        }
        workgroupBarrier();
    }
}

// The workgroup's sum, in red_v[0].
fn sum_of(v: f32, lid: u32) {
    red_v[lid] = v;
    workgroupBarrier();
    for (var h = WG / 2u; h > 0u; h = h / 2u) {
        if (lid < h) {
            red_v[lid] = red_v[lid] + red_v[lid + h];
        }
        workgroupBarrier();
    }
}

