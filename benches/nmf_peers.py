"""NMF: dictum against scikit-learn on workload W5 of shared/peers (dense 2000 x 1000, rank 50,
planted factors), same data, same threads, same run. Run from the repository root:

    PEERS_DATA=/path/to/peers/data /path/to/peers/venv/bin/python benches/nmf_peers.py

scikit-learn runs NMF(solver='cd') and NMF(solver='mu') for 200 iterations (init='random',
tol=0); dictum's HALS and multiplicative solvers are timed at increasing iteration budgets,
each fit from scratch, and the first budget whose relative error ‖V − WH‖_F/‖V‖_F is at most
scikit-learn's gives dictum's time to equal error.
"""
import os
import time

from peers_env import DATA, REPS, THREADS, binary, budgets

import numpy as np  # noqa: E402
from sklearn.decomposition import NMF  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402


def dictum(path, solver, iters):
    return budgets(path, ["--threads", str(THREADS), "--data", os.path.join(DATA, "W5"), "--solver", solver,
                          "--budgets", ",".join(map(str, iters)), "--reps", str(REPS)])


def main():
    bin_path = binary("nmf_peers")
    V = np.load(os.path.join(DATA, "W5", "V.npy"))
    nV = np.linalg.norm(V)
    peers = []
    with threadpool_limits(limits=THREADS):
        for solver in ("cd", "mu"):
            times, err = [], None
            for _ in range(REPS):
                nm = NMF(50, init="random", solver=solver, max_iter=200, tol=0, random_state=0)
                t = time.perf_counter()
                W = nm.fit_transform(V)
                times.append(time.perf_counter() - t)
                err = float(np.linalg.norm(V - W @ nm.components_) / nV)
            peers.append((solver, float(np.median(times)), err))
    runs = {
        "hals": dictum(bin_path, "hals", [5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 60, 80, 100, 150, 200]),
        "mu": dictum(bin_path, "mu", [20, 40, 60, 80, 100, 150, 200, 300]),
    }
    print(f"W5: V {V.shape[0]} x {V.shape[1]}, rank 50, {THREADS} threads, median of {REPS}\n")
    print("| scikit-learn | 200 iterations | error | dictum HALS to equal error | ratio | dictum MU to equal error | ratio |")
    print("|---|---|---|---|---|---|---|")
    for solver, t, err in peers:
        cells = []
        for key in ("hals", "mu"):
            hit = next(((b, s, e) for b, s, e in runs[key] if e <= err), None)
            cells += [f"{hit[1]:.3f} s ({hit[0]} it, {hit[2]:.5f})", f"{t / hit[1]:.1f}x"] if hit else ["not reached", "-"]
        print(f"| NMF(solver='{solver}') | {t:.3f} s | {err:.5f} | " + " | ".join(cells) + " |")
    print()
    for key, rows in runs.items():
        print(f"  dictum {key}: " + ", ".join(f"{b}:{s:.3f}s/{e:.5f}" for b, s, e in rows))


if __name__ == "__main__":
    main()
