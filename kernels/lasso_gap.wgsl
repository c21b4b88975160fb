// lasso_gap.wgsl — the duality gap of every signal's LASSO / elastic-net code, f32, one
// workgroup of 256 invocations per signal (signal x + y·65535). x, gx = G·x, a0 = Dᵀy are
// m x n column-major, y is d x n. With ρ² = ‖y‖² − 2xᵀa0 + xᵀGx, the primal is
// ½ρ² + λ‖x‖₁ + ½λ₂‖x‖², and the dual point is the (augmented) residual scaled so that
// max_i |a0_i − (Gx)_i − λ₂x_i| ≤ λ (only positive values count for non-negative codes),
// as the CPU computes it (crates/dictum-coding/src/lasso/fista.rs). A signal whose gap is at
// most tol·primal is done: done[c] = 1 and its z is set to x, so it no longer moves; the
// host reads `done` back to decide whether to go on.

struct Params {
    m: u32,
    n: u32,
    d: u32,
    positive: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> gx: array<f32>;
@group(0) @binding(2) var<storage, read> a0: array<f32>;
@group(0) @binding(3) var<storage, read> y: array<f32>;
// [step, step·λ, λ₂, tol, smallest positive, λ], momentum table after.
@group(0) @binding(4) var<storage, read> scal: array<f32>;
@group(0) @binding(5) var<storage, read_write> done: array<u32>;
@group(0) @binding(6) var<storage, read> x: array<f32>;
@group(0) @binding(7) var<storage, read_write> z: array<f32>;

const WG: u32 = 256u;

var<workgroup> s_xa: array<f32, WG>;
var<workgroup> s_xgx: array<f32, WG>;
var<workgroup> s_l1: array<f32, WG>;
var<workgroup> s_l2: array<f32, WG>;
var<workgroup> s_max: array<f32, WG>;
var<workgroup> s_y2: array<f32, WG>;
var<workgroup> st_done: u32;

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid3: vec3<u32>,
) {
    let c = wg.x + wg.y * 65535u;
    if (c >= p.n) {
        return;
    }
    let lid = lid3.x;
    if (lid == 0u) {
        st_done = done[c];
    }
    if (workgroupUniformLoad(&st_done) != 0u) {
        return;
    }
    let lam2 = scal[2];
    let lam = scal[5];
    var xa: f32 = 0.0;
    var xgx: f32 = 0.0;
    var l1: f32 = 0.0;
    var l2: f32 = 0.0;
    var cmax: f32 = 0.0;
    var y2: f32 = 0.0;
    for (var i = lid; i < p.m; i += WG) {
        let e = i + c * p.m;
        let xi = x[e];
        xa = fma(xi, a0[e], xa);
        xgx = fma(xi, gx[e], xgx);
        l1 += abs(xi);
        l2 = fma(xi, xi, l2);
        let corr = a0[e] - gx[e] - lam2 * xi;
        var s = abs(corr);
        if (p.positive == 1u) {
            s = corr;
        }
        cmax = max(cmax, s);
    }
    for (var i = lid; i < p.d; i += WG) {
        let v = y[i + c * p.d];
        y2 = fma(v, v, y2);
    }
    s_xa[lid] = xa;
    s_xgx[lid] = xgx;
    s_l1[lid] = l1;
    s_l2[lid] = l2;
    s_max[lid] = cmax;
    s_y2[lid] = y2;
    workgroupBarrier();
    for (var h = WG / 2u; h > 0u; h = h / 2u) {
        if (lid < h) {
            s_xa[lid] += s_xa[lid + h];
            s_xgx[lid] += s_xgx[lid + h];
            s_l1[lid] += s_l1[lid + h];
            s_l2[lid] += s_l2[lid + h];
            s_max[lid] = max(s_max[lid], s_max[lid + h]);
            s_y2[lid] += s_y2[lid + h];
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        let rr = max(s_y2[0] - 2.0 * s_xa[0] + s_xgx[0], 0.0);
        let primal = 0.5 * rr + lam * s_l1[0] + 0.5 * lam2 * s_l2[0];
        var sc: f32 = 1.0;
        if (s_max[0] > lam) {
            sc = lam / s_max[0];
        }
        let rr_aug = rr + lam2 * s_l2[0];
        let dual = sc * (s_y2[0] - s_xa[0]) - 0.5 * sc * sc * rr_aug;
        let gap = max(primal - dual, 0.0);
        st_done = select(0u, 1u, gap <= scal[3] * max(primal, scal[4]));
    }
    if (workgroupUniformLoad(&st_done) == 1u) {
        for (var i = lid; i < p.m; i += WG) {
            z[i + c * p.m] = x[i + c * p.m];
        }
        if (lid == 0u) {
            done[c] = 1u;
        }
    }
}
