// ksvd.wgsl — the steps of K-SVD's batched atom update (see
// crates/dictum-linalg/src/atoms.rs), f32, one entry point per step.
//
// A batch holds b atoms ("slots" kk, global atom atoms[kk]). Its users are listed slot by
// slot: b_ptr[kk]..b_ptr[kk+1] index b_sig (the signal j, ascending within a slot), b_pos
// (where x_jk sits in the codes' values x_vals) and b_slot (kk again); v holds the current
// coefficient of each user (the power iteration's right vector). The codes X (m x N) are
// CSC (x_ptr, x_rows, x_vals); the dictionary D (d x m), the signals' chunk y (d x (hi − lo),
// signals lo..hi), and every d x b or m x b matrix are column-major. One power step is
//   gather   S = Y·Vᵀ              (per chunk of signals, accumulated)
//   spgemm   W_g = X·Vᵀ per group g of each slot's users (then W = Σ_g W_g: partial_sums.wgsl,
//            D·W: gemm.wgsl)
//   combine  u = S − D·W + d_k·(x_kᵀv), normalized (a vanishing u marks the slot degenerate)
//   project  (Yᵀ·U) at the users      (per chunk; then P = Dᵀ·U: gemm.wgsl)
//   coefs    v = Eᵀu = Yᵀu − Xᵀ(Dᵀu) + x_k·(d_kᵀu) at the users
// and `finish` writes the batch back: atom k = ±u (the sign that keeps dᵀd_old ≥ 0), its
// coefficients ±v; a degenerate slot keeps its atom and gets zero coefficients. Every sum
// has a fixed order and no two invocations write the same word.

struct Params {
    d: u32,
    m: u32,
    b: u32,
    users: u32,
    lo: u32,
    hi: u32,
    groups: u32,
    first: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> b_ptr: array<u32>;
@group(0) @binding(3) var<storage, read> b_sig: array<u32>;
@group(0) @binding(4) var<storage, read> b_pos: array<u32>;
@group(0) @binding(5) var<storage, read> b_slot: array<u32>;
@group(0) @binding(6) var<storage, read_write> v: array<f32>;
@group(0) @binding(7) var<storage, read_write> s_acc: array<f32>;
@group(0) @binding(8) var<storage, read> x_ptr: array<u32>;
@group(0) @binding(9) var<storage, read> x_rows: array<u32>;
@group(0) @binding(10) var<storage, read_write> x_vals: array<f32>;
@group(0) @binding(11) var<storage, read_write> w_part: array<f32>;
@group(0) @binding(13) var<storage, read> dw: array<f32>;
@group(0) @binding(14) var<storage, read_write> dict: array<f32>;
@group(0) @binding(15) var<storage, read_write> u: array<f32>;
@group(0) @binding(16) var<storage, read> atoms: array<u32>;
@group(0) @binding(17) var<storage, read_write> state: array<u32>;
@group(0) @binding(18) var<storage, read> pm: array<f32>;
@group(0) @binding(19) var<storage, read_write> yu: array<f32>;

const WG: u32 = 256u;

var<workgroup> red: array<f32, WG>;
var<workgroup> st_norm: f32;
var<workgroup> st_flag: u32;

// Sum over the workgroup in a fixed order, in red[0].
fn sum_of(x: f32, lid: u32) {
    red[lid] = x;
    workgroupBarrier();
    for (var h = WG / 2u; h > 0u; h = h / 2u) {
        if (lid < h) {
            red[lid] = red[lid] + red[lid + h];
        }
        workgroupBarrier();
    }
}

// S[i, kk] (+)= Σ v[t]·y[i, j_t − lo] over slot kk's users with signals in lo..hi.
@compute @workgroup_size(64, 1, 1)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    let kk = gid.y;
    if (i >= p.d || kk >= p.b) {
        return;
    }
    var acc: f32 = 0.0;
    if (p.first == 0u) {
        acc = s_acc[i + kk * p.d];
    }
    for (var t = b_ptr[kk]; t < b_ptr[kk + 1u]; t++) {
        let j = b_sig[t];
        if (j < p.lo) {
            continue;
        }
        if (j >= p.hi) {
            break;
        }
        acc = fma(v[t], y[i + (j - p.lo) * p.d], acc);
    }
    s_acc[i + kk * p.d] = acc;
}

// W_g[:, kk] = Σ v[t]·x_{j_t} over group g's share of slot kk's users (W_g zeroed before).
@compute @workgroup_size(64, 1, 1)
fn spgemm(@builtin(global_invocation_id) gid: vec3<u32>) {
    let g = gid.x;
    let kk = gid.y;
    if (g >= p.groups || kk >= p.b) {
        return;
    }
    let t0 = b_ptr[kk];
    let len = b_ptr[kk + 1u] - t0;
    let start = t0 + len * g / p.groups;
    let end = t0 + len * (g + 1u) / p.groups;
    let base = (g * p.b + kk) * p.m;
    for (var t = start; t < end; t++) {
        let j = b_sig[t];
        let vt = v[t];
        for (var s = x_ptr[j]; s < x_ptr[j + 1u]; s++) {
            let at = base + x_rows[s];
            w_part[at] = fma(vt, x_vals[s], w_part[at]);
        }
    }
}

// u = S − D·W + d_k·(x_kᵀv) for slot kk (workgroup kk), normalized.
@compute @workgroup_size(256, 1, 1)
fn combine(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid3: vec3<u32>,
) {
    let kk = wg.x;
    if (kk >= p.b) {
        return;
    }
    let lid = lid3.x;
    let k = atoms[kk];
    if (lid == 0u) {
        st_flag = state[kk];
    }
    if (workgroupUniformLoad(&st_flag) == 1u) {
        return;
    }
    var c: f32 = 0.0;
    for (var t = b_ptr[kk] + lid; t < b_ptr[kk + 1u]; t += WG) {
        c = fma(x_vals[b_pos[t]], v[t], c);
    }
    sum_of(c, lid);
    let ck = red[0];
    workgroupBarrier();
    var n2: f32 = 0.0;
    for (var i = lid; i < p.d; i += WG) {
        let at = i + kk * p.d;
        let ui = s_acc[at] - dw[at] + dict[i + k * p.d] * ck;
        u[at] = ui;
        n2 = fma(ui, ui, n2);
    }
    sum_of(n2, lid);
    if (lid == 0u) {
        let norm = sqrt(red[0]);
        st_norm = norm;
        if (!(norm > 0.0)) {
            state[kk] = 1u;
        }
    }
    let norm = workgroupUniformLoad(&st_norm);
    for (var i = lid; i < p.d; i += WG) {
        let at = i + kk * p.d;
        if (norm > 0.0) {
            u[at] = u[at] / norm;
        } else {
            u[at] = 0.0;
        }
    }
}

// yu[t] = y_{j_t}ᵀ·u_{kk} for the users with signals in lo..hi.
@compute @workgroup_size(256, 1, 1)
fn project(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let t = (wg.x + wg.y * 65535u) * 256u + lid.x;
    if (t >= p.users) {
        return;
    }
    let j = b_sig[t];
    if (j < p.lo || j >= p.hi) {
        return;
    }
    let kk = b_slot[t];
    var acc: f32 = 0.0;
    for (var i = 0u; i < p.d; i++) {
        acc = fma(y[i + (j - p.lo) * p.d], u[i + kk * p.d], acc);
    }
    yu[t] = acc;
}

// v[t] = y_jᵀu − Σ_a x_aj·(Dᵀu)_a + x_kj·(Dᵀu)_k at every user (zero for degenerate slots).
@compute @workgroup_size(256, 1, 1)
fn coefs(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let t = (wg.x + wg.y * 65535u) * 256u + lid.x;
    if (t >= p.users) {
        return;
    }
    let kk = b_slot[t];
    if (state[kk] == 1u) {
        v[t] = 0.0;
        return;
    }
    let k = atoms[kk];
    let j = b_sig[t];
    let col = kk * p.m;
    var acc = yu[t];
    for (var s = x_ptr[j]; s < x_ptr[j + 1u]; s++) {
        acc = fma(-x_vals[s], pm[x_rows[s] + col], acc);
    }
    acc = fma(x_vals[b_pos[t]], pm[k + col], acc);
    v[t] = acc;
}

// Writes slot kk back (workgroup kk): atom and coefficients, oriented as the old atom.
@compute @workgroup_size(256, 1, 1)
fn finish(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid3: vec3<u32>,
) {
    let kk = wg.x;
    if (kk >= p.b) {
        return;
    }
    let lid = lid3.x;
    let k = atoms[kk];
    if (lid == 0u) {
        st_flag = state[kk];
    }
    if (workgroupUniformLoad(&st_flag) == 1u) {
        for (var t = b_ptr[kk] + lid; t < b_ptr[kk + 1u]; t += WG) {
            x_vals[b_pos[t]] = 0.0;
        }
        return;
    }
    var along: f32 = 0.0;
    for (var i = lid; i < p.d; i += WG) {
        along = fma(u[i + kk * p.d], dict[i + k * p.d], along);
    }
    sum_of(along, lid);
    var sign: f32 = 1.0;
    if (red[0] < 0.0) {
        sign = -1.0;
    }
    // Every invocation has read its share of the old atom before any writes it.
    workgroupBarrier();
    for (var i = lid; i < p.d; i += WG) {
        dict[i + k * p.d] = sign * u[i + kk * p.d];
    }
    for (var t = b_ptr[kk] + lid; t < b_ptr[kk + 1u]; t += WG) {
        x_vals[b_pos[t]] = sign * v[t];
    }
}
