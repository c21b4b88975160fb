// selection.wgsl — atoms chosen from the correlations Dᵀy of many signals at once, without
// least squares: Matching Pursuit, top-k thresholding and nearest-centre assignment, f32,
// one workgroup per signal. Its reductions are workgroup_reduce.wgsl's, prepended when the
// pipeline is built.
//
// Layout (column-major) as pursuit.wgsl: G = DᵀD m x m (MP only), the signals y d x n (MP
// only, for ‖y‖²), alpha m x n holding Dᵀy on entry (the GEMM pass before this one writes
// it; MP updates it, top-k marks chosen atoms in it). Out: per signal `kmax` slots of atoms
// (u32, 0xffffffff past the last) and values.
//   mode 0, Matching Pursuit (Mallat & Zhang 1993): j = argmax |α|; α_j is added to j's
//           coefficient and α −= α_j·G[:, j]; an atom may come back. Stops as the CPU kernel
//           (crates/dictum-coding/src/mp.rs): after `max_steps` steps, at ‖r‖² ≤ tol, when
//           max |α| is at the rounding level 4·ε·‖y‖, or before a step that would add a
//           (kmax + 1)-th distinct atom. Slots hold the distinct atoms in the order first
//           chosen and their summed coefficients.
//   mode 1, top-k by |α|, and mode 2, top-k by α (non-negative codes): the kmax best
//           scores above zero, with their correlations.
//   mode 3, nearest centre: the one atom maximizing α_j − offsets[j] (offsets = ½‖c_j‖², or
//           zeros for spherical k-means), with that value.
//   mode 4, the SMT's general coding (crates/dictum-smt/src/coding.rs): the at most kmax
//           atoms with α_j ≥ threshold·‖y‖ (threshold in the tol slot), most similar
//           first, valued by their cosine α_j/‖y‖; with `has_tol` set (force best), the best
//           atom when none reaches it. A zero signal gets no atom.
// Ties go to the lower atom index; reductions have a fixed order.

struct Params {
    m: u32,
    d: u32,
    n: u32,
    kmax: u32,
    mode: u32,
    has_tol: u32,
    max_steps: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> gram: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> alpha: array<f32>;
// [tol, machine epsilon], then (mode 3) the m offsets.
@group(0) @binding(4) var<storage, read> scal: array<f32>;
@group(0) @binding(5) var<storage, read_write> out_atoms: array<u32>;
@group(0) @binding(6) var<storage, read_write> out_coefs: array<f32>;

// Invocations per workgroup: 256 as written; the host may specialize it (64 or 128 for
// dictionaries that small, so that fewer invocations idle through the reductions).
const WG: u32 = 256u;
const KMAX: u32 = 64u;
const NONE: u32 = 0xffffffffu;

var<workgroup> sup: array<u32, KMAX>;
var<workgroup> coef: array<f32, KMAX>;
var<workgroup> st_go: u32;
var<workgroup> st_s: u32;
var<workgroup> st_j: u32;
var<workgroup> st_a: f32;
var<workgroup> st_resid2: f32;

fn score(a: f32, j: u32) -> f32 {
    switch p.mode {
        case 0u, 1u: {
            return abs(a);
        }
        case 2u, 4u: {
            return a;
        }
        default: {
            return a - scal[2u + j];
        }
    }
}

@compute @workgroup_size(WG, 1, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid3: vec3<u32>,
) {
    let col = wg.x + wg.y * 65535u;
    if (col >= p.n) {
        return;
    }
    let lid = lid3.x;
    let m = p.m;
    let base = col * m;
    let tol = scal[0];
    let eps = scal[1];
    var noise: f32 = 0.0;
    var norm: f32 = 0.0;
    if (p.mode == 0u || p.mode == 4u) {
        var acc: f32 = 0.0;
        for (var i = lid; i < p.d; i += WG) {
            let v = y[col * p.d + i];
            acc = fma(v, v, acc);
        }
        sum_of(acc, lid);
        let ynorm2 = red_v[0];
        noise = eps * 4.0 * sqrt(ynorm2);
        norm = sqrt(ynorm2);
        workgroupBarrier();
        if (lid == 0u) {
            st_resid2 = ynorm2;
        }
    }
    if (lid == 0u) {
        st_s = 0u;
        st_go = 1u;
    }
    let steps = select(p.kmax, p.max_steps, p.mode == 0u);
    for (var step = 0u; step < steps; step++) {
        if (workgroupUniformLoad(&st_go) == 0u) {
            break;
        }
        var bv: f32 = 0.0;
        var bi: u32 = NONE;
        for (var j = lid; j < m; j += WG) {
            let sc = score(alpha[base + j], j);
            if (bi == NONE || sc > bv) {
                bv = sc;
                bi = j;
            }
        }
        best_of(bv, bi, lid);
        if (lid == 0u) {
            let j = red_i[0];
            let best = red_v[0];
            let s = st_s;
            if (p.mode == 0u) {
                if ((p.has_tol == 1u && st_resid2 <= tol) || j == NONE || best <= noise) {
                    st_go = 0u;
                } else {
                    var at = s;
                    for (var t = 0u; t < s; t++) {
                        if (sup[t] == j) {
                            at = t;
                        }
                    }
                    if (at == s && s == p.kmax) {
                        st_go = 0u;
                    } else {
                        let a = alpha[base + j];
                        if (at == s) {
                            sup[s] = j;
                            coef[s] = 0.0;
                            st_s = s + 1u;
                        }
                        coef[at] = coef[at] + a;
                        st_resid2 = st_resid2 - a * a;
                        st_a = a;
                        st_j = j;
                    }
                }
            } else if (p.mode == 4u) {
                let bar = tol * norm;
                if (j != NONE && norm > 0.0 && (best >= bar || (s == 0u && p.has_tol == 1u))) {
                    sup[s] = j;
                    coef[s] = best / norm;
                    st_s = s + 1u;
                    // Chosen: zero is below every bar from now on.
                    alpha[base + j] = 0.0;
                }
                if (!(j != NONE && norm > 0.0 && best >= bar)) {
                    st_go = 0u;
                }
            } else if (p.mode == 3u) {
                if (j != NONE) {
                    sup[0] = j;
                    coef[0] = best;
                    st_s = 1u;
                }
                st_go = 0u;
            } else {
                if (j == NONE || !(best > 0.0)) {
                    st_go = 0u;
                } else {
                    sup[s] = j;
                    coef[s] = alpha[base + j];
                    st_s = s + 1u;
                    // Chosen: its score is zero from now on, never above zero again.
                    alpha[base + j] = 0.0;
                }
            }
        }
        if (workgroupUniformLoad(&st_go) == 0u) {
            break;
        }
        if (p.mode == 0u) {
            // α −= a·G[:, j] (j's own entry included: the residual is now orthogonal to it).
            let a = st_a;
            let j = st_j;
            for (var t = lid; t < m; t += WG) {
                alpha[base + t] = fma(-a, gram[t + j * m], alpha[base + t]);
            }
        }
        // The next step's argmax reads entries other invocations wrote (MP's update, or the
        // chosen atom top-k zeroed).
        storageBarrier();
    }
    let s = workgroupUniformLoad(&st_s);
    let out = col * p.kmax;
    for (var i = lid; i < p.kmax; i += WG) {
        if (i < s) {
            out_atoms[out + i] = sup[i];
            out_coefs[out + i] = coef[i];
        } else {
            out_atoms[out + i] = NONE;
            out_coefs[out + i] = 0.0;
        }
    }
}
