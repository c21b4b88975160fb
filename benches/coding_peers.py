"""Sparse coding: dictum against SPAMS and scikit-learn, on the same data, in the same run.

Workloads are those of shared/peers (its README): W1 OMP d=64 m=256 N=100000 k=8; W2 OMP
d=768 m=4096 k=16; W3 LASSO on W1's data, lambda from meta.json. Every tool gets the same
threads (BENCH_THREADS, default 2). Run from the repository root with the peers' Python:

    PEERS_DATA=/path/to/peers/data /path/to/peers/venv/bin/python benches/coding_peers.py [W1 W2 W3]

It builds `coding_peers` (release), times SPAMS `omp`/`lasso`, scikit-learn
`orthogonal_mp_gram` and dictum's coders, compares supports with SPAMS' and objectives, and
prints a markdown table with the ratios.
"""
import json
import os
import sys
import tempfile

from peers_env import DATA, REPS, THREADS, binary, run, timeit

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
import spams  # noqa: E402
from sklearn.linear_model import orthogonal_mp_gram  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

BIN = None


def load(w, name, f32):
    return np.load(os.path.join(DATA, w, name + ("_f32" if f32 else "") + ".npy"))


def dictum(args):
    kv = {}
    for line in run(BIN, ["--threads", str(THREADS), "--reps", str(REPS)] + args):
        kv.update(line)
    return kv


def objective(D, Y, X, lam):
    R = Y - D @ X
    return float(np.mean(0.5 * (R * R).sum(0) + lam * np.abs(X).sum(0)))


def omp_workload(w, n_spams, n_sklearn, rows):
    meta = json.load(open(os.path.join(DATA, w, "meta.json")))
    k = int(meta["k"])
    for f32 in (False, True):
        dt = "f32" if f32 else "f64"
        D = np.asfortranarray(load(w, "D", f32))
        Y = np.asfortranarray(load(w, "Y", f32)[:, :n_spams])
        t_spams, Xs = timeit(lambda: spams.omp(Y, D, L=k, eps=0.0, lambda1=0.0, numThreads=THREADS),
                             lambda: spams.omp(Y[:, :256], D, L=k, eps=0.0, lambda1=0.0, numThreads=THREADS))
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "spams.npz")
            sp.save_npz(path, sp.csc_matrix(Xs.astype(np.float64)))
            # SPAMS' omp is order-recursive MP: compare it with dictum's batch-ormp.
            kv = dictum(["--data", os.path.join(DATA, w), "--dtype", dt, "--method", "batch-ormp",
                         "--k", str(k), "--n", str(n_spams), "--compare", path])
            kv_omp = dictum(["--data", os.path.join(DATA, w), "--dtype", dt, "--method", "batch-omp",
                             "--k", str(k), "--n", str(n_spams)])
        t_d = float(kv["median_s"])
        t_o = float(kv_omp["median_s"])
        rows.append((w, dt, "dictum batch-ormp", n_spams, t_d, t_d / n_spams * 1e6, "1.00",
                     f"same support as SPAMS {float(kv['same_support']):.4f}; {float(kv['ratio_to_gemm']):.2f}x its Dᵀ·Y GEMM ({float(kv['gemm_s']):.3f} s); rel. residual {float(kv['mean_rel_residual']):.5f}"))
        rows.append((w, dt, "spams.omp (ORMP)", n_spams, t_spams, t_spams / n_spams * 1e6, f"{t_spams / t_d:.2f}", ""))
        rows.append((w, dt, "dictum batch-omp", n_spams, t_o, t_o / n_spams * 1e6, f"{t_o / t_d:.2f}",
                     f"{float(kv_omp['ratio_to_gemm']):.2f}x its GEMM; rel. residual {float(kv_omp['mean_rel_residual']):.5f} (sklearn's rule)"))
        if not f32 and n_sklearn:
            G = D.T @ D
            Yk = Y[:, :n_sklearn]
            t_sk, _ = timeit(lambda: orthogonal_mp_gram(G, D.T @ Yk, n_nonzero_coefs=k),
                             lambda: orthogonal_mp_gram(G, D.T @ Yk[:, :8], n_nonzero_coefs=k))
            per = t_sk / n_sklearn * 1e6
            rows.append((w, dt, "sklearn orthogonal_mp_gram", n_sklearn, t_sk, per, f"{per / (t_o / n_spams * 1e6):.1f}", "per signal, vs dictum batch-omp"))


def lasso_workload(rows):
    meta = json.load(open(os.path.join(DATA, "W3", "meta.json")))
    lam = float(meta["lam"])
    for f32 in (False, True):
        dt = "f32" if f32 else "f64"
        D = np.asfortranarray(load("W1", "D", f32))
        Y = np.asfortranarray(load("W1", "Y", f32))
        t_spams, Xs = timeit(lambda: spams.lasso(Y, D=D, lambda1=lam, mode=2, numThreads=THREADS),
                             lambda: spams.lasso(Y[:, :256], D=D, lambda1=lam, mode=2, numThreads=THREADS))
        n_common = 2000
        D64, Y64 = D.astype(np.float64), Y[:, :n_common].astype(np.float64)
        obj_s = objective(D64, Y64, Xs[:, :n_common].toarray().astype(np.float64), lam)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "dictum.npz")
            kv = dictum(["--data", os.path.join(DATA, "W1"), "--dtype", dt, "--method", "lars",
                         "--k", "0", "--lambda", repr(lam), "--save", path])
            Xd = sp.load_npz(path)
        obj_d = objective(D64, Y64, Xd[:, :n_common].toarray(), lam)
        t_d = float(kv["median_s"])
        n = Y.shape[1]
        rows.append(("W3", dt, "dictum lars", n, t_d, t_d / n * 1e6, "1.00", f"objective {obj_d:.6f} (first {n_common})"))
        rows.append(("W3", dt, "spams.lasso", n, t_spams, t_spams / n * 1e6, f"{t_spams / t_d:.2f}", f"objective {obj_s:.6f}"))


def main():
    which = sys.argv[1:] or ["W1", "W2", "W3"]
    global BIN
    BIN = binary("coding_peers")
    rows = []
    with threadpool_limits(limits=THREADS):
        if "W1" in which:
            omp_workload("W1", 100000, 2000, rows)
        if "W2" in which:
            omp_workload("W2", 5000, 32, rows)
        if "W3" in which:
            lasso_workload(rows)
    print(f"threads={THREADS} reps={REPS} (median); ratio = peer time / dictum time (per signal for sklearn)\n")
    print("| workload | dtype | coder | signals | median s | µs/signal | peer/dictum | notes |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]:.3f} | {r[5]:.2f} | {r[6]} | {r[7]} |")


if __name__ == "__main__":
    main()
