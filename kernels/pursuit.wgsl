// pursuit.wgsl — Batch-OMP and Batch-ORMP of many signals at once, f32, one workgroup per
// signal. Its reductions (best_of, sum_of) are workgroup_reduce.wgsl's, prepended when the
// pipeline is built.
//
// Layout (column-major): the Gram matrix G = DᵀD is m x m; the signals y are d x n; alpha is
// m x n and holds the correlations Dᵀy on entry (the GEMM pass before this one writes them),
// then the residual's correlations; nu (m x n, ORMP only) holds ‖P⊥d_j‖². Out: per signal
// `kmax` slots of chosen atoms (u32, 0xffffffff past the support) and coefficients.
//
// The inverse-Cholesky form (Lubonja et al. 2024, arXiv 2407.06434; Rubinstein et al. 2008
// for Batch-OMP): with L·Lᵀ = G_II, the workgroup keeps L⁻¹ (packed lower triangle) and
// z = L⁻¹·α0_I. Adding atom j with w = L⁻¹·G_Ij and pivot p = ‖P⊥d_j‖ appends the row
// c = (−wᵀL⁻¹, 1)/p to L⁻¹; the new orthonormal direction's correlations with every atom are
// u = G_{:,I}·cᵀ, so α −= z_s·u and ν −= u² in one pass over the atoms that also scores the
// next step. No per-signal matrix but α (and ν) lives outside workgroup memory. At the end
// γ = L⁻ᵀ·z. Rules and tolerances are the CPU kernel's (crates/dictum-coding/src/omp):
// stop at kmax atoms, at ‖r‖² ≤ tol, or when the best correlation is at the rounding level
// 4·ε·‖y‖; OMP refuses an atom whose ‖P⊥d_j‖² ≤ 100·ε·(s+1)·G_jj (numerically in the span of
// the support) and looks again; ORMP scores only atoms with ν_j above that floor. Ties go to
// the lower atom index, and every reduction has a fixed order: results do not depend on
// scheduling.

struct Params {
    m: u32,
    d: u32,
    n: u32,
    kmax: u32,
    ormp: u32,
    has_tol: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> gram: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> alpha: array<f32>;
@group(0) @binding(4) var<storage, read_write> nu: array<f32>;
// [tol, machine epsilon of the precision the CPU kernel would use]
@group(0) @binding(5) var<storage, read> scal: array<f32>;
@group(0) @binding(6) var<storage, read_write> out_atoms: array<u32>;
@group(0) @binding(7) var<storage, read_write> out_coefs: array<f32>;

// Invocations per workgroup: 256 as written; the host may specialize it (64 or 128 for
// dictionaries that small, so that fewer invocations idle through the reductions).
const WG: u32 = 256u;
const KMAX: u32 = 64u;
const NONE: u32 = 0xffffffffu;

// Row t of L⁻¹ starts at t·(t+1)/2.
var<workgroup> linv: array<f32, 2080>;
var<workgroup> z: array<f32, KMAX>;
var<workgroup> g: array<f32, KMAX>;
var<workgroup> w: array<f32, KMAX>;
var<workgroup> sup: array<u32, KMAX>;
var<workgroup> banned: array<u32, KMAX>;

var<workgroup> st_active: u32;
var<workgroup> st_s: u32;
var<workgroup> st_nb: u32;
var<workgroup> st_j: u32;
var<workgroup> st_refused: u32;
var<workgroup> st_resid2: f32;
var<workgroup> st_noise: f32;
var<workgroup> st_inv: f32;
var<workgroup> st_zs: f32;

fn tri(t: u32) -> u32 {
    return t * (t + 1u) / 2u;
}

fn excluded(j: u32, s: u32, nb: u32) -> bool {
    for (var t = 0u; t < s; t++) {
        if (sup[t] == j) {
            return true;
        }
    }
    for (var t = 0u; t < nb; t++) {
        if (banned[t] == j) {
            return true;
        }
    }
    return false;
}

// The selection score of atom j from its α and ν (−1: never chosen).
fn score(a: f32, v: f32, floor: f32) -> f32 {
    if (p.ormp == 1u) {
        if (v > floor) {
            return a * a / v;
        }
        return 0.0;
    }
    return abs(a);
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

    var acc: f32 = 0.0;
    for (var i = lid; i < p.d; i += WG) {
        let v = y[col * p.d + i];
        acc = fma(v, v, acc);
    }
    sum_of(acc, lid);
    let ynorm2 = red_v[0];

    // The first step's scores, from α0 and ν = diag(G).
    let floor0 = eps * 100.0;
    var bv: f32 = -1.0;
    var bi: u32 = NONE;
    for (var j = lid; j < m; j += WG) {
        var v: f32 = 0.0;
        if (p.ormp == 1u) {
            v = gram[j + j * m];
            nu[base + j] = v;
        }
        let sc = score(alpha[base + j], v, floor0);
        if (sc > bv) {
            bv = sc;
            bi = j;
        }
    }
    if (lid == 0u) {
        st_s = 0u;
        st_nb = 0u;
        st_resid2 = ynorm2;
        st_noise = eps * 4.0 * sqrt(ynorm2);
        st_active = select(1u, 0u, p.has_tol == 1u && ynorm2 <= tol);
    }
    // Thread 0 reads the chosen atom's α and ν, written by its owner.
    storageBarrier();
    best_of(bv, bi, lid);

    loop {
        if (workgroupUniformLoad(&st_active) == 0u) {
            break;
        }
        let s = workgroupUniformLoad(&st_s);
        let nb = workgroupUniformLoad(&st_nb);
        // Thread 0 reads the winner of the last reduction and applies the stopping tests.
        if (lid == 0u) {
            let best = red_v[0];
            let noise = st_noise;
            let limit = select(noise, noise * noise, p.ormp == 1u);
            st_j = red_i[0];
            if (best < 0.0 || best <= limit) {
                st_active = 0u;
            }
        }
        if (workgroupUniformLoad(&st_active) == 0u) {
            break;
        }
        let j = st_j;
        // w = L⁻¹·G_Ij.
        if (lid < s) {
            g[lid] = gram[sup[lid] + j * m];
        }
        workgroupBarrier();
        if (lid < s) {
            let r = tri(lid);
            var acc_w: f32 = 0.0;
            for (var i = 0u; i <= lid; i++) {
                acc_w = fma(linv[r + i], g[i], acc_w);
            }
            w[lid] = acc_w;
        }
        workgroupBarrier();
        let floor = eps * 100.0 * f32(s + 1u);
        if (lid == 0u) {
            let dj = gram[j + j * m];
            var p2: f32 = 0.0;
            if (p.ormp == 1u) {
                p2 = nu[base + j];
            } else {
                p2 = dj;
                for (var t = 0u; t < s; t++) {
                    p2 -= w[t] * w[t];
                }
            }
            st_refused = 0u;
            if (p.ormp == 0u && !(p2 > floor * dj)) {
                // In the span of the support up to rounding: refuse it, look again.
                st_refused = 1u;
                banned[st_nb] = j;
                st_nb = st_nb + 1u;
                if (st_nb == KMAX) {
                    st_active = 0u;
                }
            } else {
                let inv = 1.0 / sqrt(p2);
                let zs = alpha[base + j] * inv;
                st_inv = inv;
                st_zs = zs;
                z[s] = zs;
                sup[s] = j;
                st_resid2 = st_resid2 - zs * zs;
            }
        }
        if (workgroupUniformLoad(&st_refused) == 1u) {
            let nb2 = workgroupUniformLoad(&st_nb);
            var rv: f32 = -1.0;
            var ri: u32 = NONE;
            for (var jj = lid; jj < m; jj += WG) {
                var sc: f32 = -1.0;
                if (!excluded(jj, s, nb2)) {
                    sc = score(alpha[base + jj], 0.0, floor);
                }
                if (sc > rv) {
                    rv = sc;
                    ri = jj;
                }
            }
            best_of(rv, ri, lid);
            continue;
        }
        let inv = st_inv;
        let zs = st_zs;
        // Row s of L⁻¹: c_i = −(Σ_{t ≥ i} w_t·L⁻¹[t, i])·inv for i < s, c_s = inv.
        let rs = tri(s);
        if (lid < s) {
            var acc_c: f32 = 0.0;
            for (var t = lid; t < s; t++) {
                acc_c = fma(w[t], linv[tri(t) + lid], acc_c);
            }
            linv[rs + lid] = -acc_c * inv;
        }
        if (lid == s) {
            linv[rs + s] = inv;
        }
        workgroupBarrier();
        if (s + 1u == p.kmax) {
            // The last atom: γ needs only L⁻¹ and z.
            if (lid == 0u) {
                st_s = s + 1u;
                st_active = 0u;
            }
            continue;
        }
        // α −= z_s·u, ν −= u², u = G_{:,I}·c, and the next step's scores on the way.
        let floor1 = eps * 100.0 * f32(s + 2u);
        var nv: f32 = -1.0;
        var ni: u32 = NONE;
        for (var jj = lid; jj < m; jj += WG) {
            var u: f32 = 0.0;
            var ex = false;
            for (var t = 0u; t <= s; t++) {
                let a = sup[t];
                u = fma(linv[rs + t], gram[jj + a * m], u);
                ex = ex || a == jj;
            }
            for (var t = 0u; t < nb; t++) {
                ex = ex || banned[t] == jj;
            }
            let al = alpha[base + jj] - zs * u;
            alpha[base + jj] = al;
            var v: f32 = 0.0;
            if (p.ormp == 1u) {
                v = nu[base + jj] - u * u;
                nu[base + jj] = v;
            }
            var sc = score(al, v, floor1);
            if (ex) {
                sc = -1.0;
            }
            if (sc > nv) {
                nv = sc;
                ni = jj;
            }
        }
        if (lid == 0u) {
            st_s = s + 1u;
            if (p.has_tol == 1u && st_resid2 <= tol) {
                st_active = 0u;
            }
        }
        storageBarrier();
        best_of(nv, ni, lid);
    }

    // γ = L⁻ᵀ·z, written with the support; empty slots past it.
    let s = workgroupUniformLoad(&st_s);
    let out = col * p.kmax;
    for (var i = lid; i < p.kmax; i += WG) {
        if (i < s) {
            var acc_g: f32 = 0.0;
            for (var t = i; t < s; t++) {
                acc_g = fma(linv[tri(t) + i], z[t], acc_g);
            }
            out_atoms[out + i] = sup[i];
            out_coefs[out + i] = acc_g;
        } else {
            out_atoms[out + i] = NONE;
            out_coefs[out + i] = 0.0;
        }
    }
}
