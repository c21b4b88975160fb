"""Dictionary learning: dictum against SPAMS trainDL and scikit-learn MiniBatchDictionaryLearning
on workload W4 of shared/peers (50000 8x8 patches, 256 atoms, shared initial D0, lambda from
meta.json), same data, same threads, same run. Run from the repository root:

    PEERS_DATA=/path/to/peers/data /path/to/peers/venv/bin/python benches/learn_peers.py

Quality is the peers' measure: ||Y - D X||_F / ||Y||_F with X = OMP(k=5) codes (SPAMS omp) of
all 50000 patches. Each peer runs one pass (195 mini-batches of 256); dictum's online learner
(same algorithm, LARS coding) is timed at increasing budgets, each fit from scratch, and the
first budget whose error is at most the peer's gives dictum's time to equal error. Batched
K-SVD is timed on 1 and 2 threads for its parallel speed-up.
"""
import json
import os

from peers_env import DATA, REPS, THREADS, binary, budgets, timeit

import numpy as np  # noqa: E402
import spams  # noqa: E402
from sklearn.decomposition import MiniBatchDictionaryLearning  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

STEPS, BATCH = 195, 256


def omp_err(D, Y, k):
    D = np.asfortranarray(D / np.maximum(np.linalg.norm(D, axis=0), 1e-12))
    X = spams.omp(np.asfortranarray(Y), D, L=k, eps=0.0, lambda1=0.0, numThreads=THREADS).toarray()
    return float(np.linalg.norm(Y - D @ X) / np.linalg.norm(Y))


def dictum(path, args):
    return budgets(path, ["--threads", str(THREADS), "--data", os.path.join(DATA, "W4")] + args)


def main():
    bin_path = binary("learn_peers")
    meta = json.load(open(os.path.join(DATA, "W4", "meta.json")))
    lam, k, m = float(meta["lam"]), int(meta["k"]), int(meta["m"])
    Y = np.asfortranarray(np.load(os.path.join(DATA, "W4", "Y.npy")))
    if Y.shape[0] != 64:
        Y = np.asfortranarray(Y.T)
    D0 = np.asfortranarray(np.load(os.path.join(DATA, "W4", "D0.npy")))
    if D0.shape[0] != 64:
        D0 = np.asfortranarray(D0.T)
    peers = []
    with threadpool_limits(limits=THREADS):
        fn = lambda it=STEPS: spams.trainDL(Y, D=np.asfortranarray(D0.copy()), lambda1=lam, mode=2,  # noqa: E731
                                            iter=it, batchsize=BATCH, numThreads=THREADS, verbose=False)
        t, D = timeit(fn, lambda: fn(3))
        peers.append(("spams.trainDL (LARS)", t, omp_err(D, Y, k)))

        def sk(n=STEPS * BATCH):
            mb = MiniBatchDictionaryLearning(n_components=m, alpha=lam, batch_size=BATCH, max_iter=1,
                                             dict_init=np.ascontiguousarray(D0.T), fit_algorithm="cd",
                                             transform_algorithm="omp", random_state=0)
            mb.fit(np.ascontiguousarray(Y[:, :n].T))
            return np.asfortranarray(mb.components_.T)
        t, D = timeit(sk, lambda: sk(3 * BATCH))
        peers.append(("sklearn MiniBatchDictionaryLearning (cd)", t, omp_err(D, Y, k)))
    budgets = "60,80,100,120,140,160,180,195"
    runs = {
        "online f64": dictum(bin_path, ["--method", "online", "--lambda", repr(lam), "--budgets", budgets, "--reps", str(REPS)]),
        "online f32": dictum(bin_path, ["--method", "online", "--lambda", repr(lam), "--budgets", budgets, "--reps", str(REPS),
                              "--dtype", "f32"]),
    }
    base = omp_err(D0, Y, k)
    print(f"W4: {Y.shape[1]} patches, m={m}, lambda={lam:.5f}, {THREADS} threads, median of {REPS}; "
          f"OMP(k={k}) error with D0 = {base:.4f}\n")
    print("| learner | steps x batch | s | OMP(k=5) error | dictum online f64 to equal error | ratio | dictum online f32 | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for name, t, err in peers:
        cells = []
        for key in ("online f64", "online f32"):
            hit = next(((b, s, e) for b, s, e in runs[key] if e <= err), None)
            if hit:
                cells += [f"{hit[1]:.3f} s ({hit[0]} steps, error {hit[2]:.4f})", f"{t / hit[1]:.1f}x"]
            else:
                cells += ["not reached", "-"]
        print(f"| {name} | {STEPS}x{BATCH} | {t:.3f} | {err:.4f} | " + " | ".join(cells) + " |")
    print("\ndictum online runs (steps, seconds, error):")
    for key, rows in runs.items():
        print(f"  {key}: " + ", ".join(f"{b}:{s:.3f}s/{e:.4f}" for b, s, e in rows))
    one = dictum(bin_path, ["--method", "batched-ksvd", "--budgets", "3", "--reps", str(REPS), "--threads", "1"])
    two = dictum(bin_path, ["--method", "batched-ksvd", "--budgets", "3", "--reps", str(REPS)])
    print(f"\nbatched K-SVD (16 atoms per batch), 3 iterations on all patches: 1 thread {one[0][1]:.3f} s, "
          f"{THREADS} threads {two[0][1]:.3f} s, speed-up {one[0][1] / two[0][1]:.2f}x (error {two[0][2]:.4f})")


if __name__ == "__main__":
    main()
