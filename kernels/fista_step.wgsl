// fista_step.wgsl — one proximal-gradient step of FISTA/ISTA for many signals, f32, one
// invocation per code entry (entry e = (i, c) = (e mod m, e div m), numbered
// (x + y·65535)·256 + local). All matrices are m x n column-major: x the codes, z the
// extrapolated point, gz = G·z (the GEMM pass before this one), a0 = Dᵀy.
//   v = z − step·(G·z − Dᵀy + λ₂·z);  x' = soft(v, step·λ) (or max(v − step·λ, 0));
//   z' = x' + momentum·(x' − x)
// Signals whose duality gap is small enough (done[c] ≠ 0, set by lasso_gap.wgsl) do not
// move. `momentum` is this iteration's (t_k − 1)/t_{k+1}, from a table indexed by `iter`.

struct Params {
    m: u32,
    n: u32,
    positive: u32,
    iter: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> gz: array<f32>;
@group(0) @binding(2) var<storage, read> a0: array<f32>;
// [step, step·λ, λ₂, tol, smallest positive, λ], then the momentum of every iteration.
@group(0) @binding(3) var<storage, read> scal: array<f32>;
@group(0) @binding(4) var<storage, read> done: array<u32>;
@group(0) @binding(5) var<storage, read_write> x: array<f32>;
@group(0) @binding(6) var<storage, read_write> z: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let e = (wg.x + wg.y * 65535u) * 256u + lid.x;
    if (e >= p.m * p.n || done[e / p.m] != 0u) {
        return;
    }
    let step = scal[0];
    let shrink = scal[1];
    let lam2 = scal[2];
    let momentum = scal[6u + p.iter];
    let zi = z[e];
    let v = zi - step * (gz[e] - a0[e] + lam2 * zi);
    var xn: f32 = 0.0;
    if (p.positive == 1u) {
        xn = max(v - shrink, 0.0);
    } else if (v > shrink) {
        xn = v - shrink;
    } else if (v < -shrink) {
        xn = v + shrink;
    }
    let xo = x[e];
    x[e] = xn;
    z[e] = xn + momentum * (xn - xo);
}
