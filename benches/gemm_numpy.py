#!/usr/bin/env python3
"""Times numpy's D.T @ Y (float32) on the shapes of benches/gemm.rs, for a same-machine
comparison with `cargo bench -p dictum-benches`. Threads: BENCH_THREADS (default 2)."""
import os
import time

threads = os.environ.get("BENCH_THREADS", "2")
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = threads

import numpy as np  # noqa: E402

rng = np.random.default_rng(0)
for d, m, n in [(64, 256, 100_000), (768, 4096, 20_000)]:
    D = np.asfortranarray(rng.random((d, m), dtype=np.float32) - 0.5)
    Y = np.asfortranarray(rng.random((d, n), dtype=np.float32) - 0.5)
    out = np.empty((m, n), dtype=np.float32, order="F")
    np.matmul(D.T, Y, out=out)  # warm-up
    times = []
    for _ in range(5):
        t = time.perf_counter()
        np.matmul(D.T, Y, out=out)
        times.append(time.perf_counter() - t)
    t = sorted(times)[len(times) // 2]
    print(f"numpy {np.__version__} threads={threads} d={d} m={m} N={n}: "
          f"median {t * 1e3:.1f} ms = {2 * d * m * n / t / 1e9:.1f} GFLOP/s")
