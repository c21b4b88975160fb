"""What the benches/*_peers.py comparisons share: the thread count every tool gets, the peers'
data folder, repetitions, timing, and running dictum's benchmark binaries.

Import it before numpy: it pins the BLAS thread count through the environment.
"""
import os
import statistics
import subprocess
import time

THREADS = int(os.environ.get("BENCH_THREADS", "2"))
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = str(THREADS)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
DATA = os.environ.get("PEERS_DATA", os.path.join(ROOT, "..", "shared", "peers", "data"))
REPS = int(os.environ.get("BENCH_REPS", "3"))


def binary(name):
    """Builds dictum's benchmark binary `name` (release) and returns its path."""
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "dictum-benches", "--bin", name],
                   check=True, cwd=ROOT)
    return os.path.join(ROOT, "target", "release", name)


def timeit(fn, warm):
    """Median wall time of REPS calls of `fn` after one call of `warm`, and the last result."""
    warm()
    times, out = [], None
    for _ in range(REPS):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return float(statistics.median(times)), out


def run(path, args):
    """Runs a benchmark binary; returns one dict of its `key=value` tokens per output line."""
    out = subprocess.run([path] + args, check=True, capture_output=True, text=True).stdout
    return [dict(tok.split("=", 1) for tok in line.split() if "=" in tok) for line in out.splitlines()]


def budgets(path, args):
    """`(budget, seconds, err)` per line of a binary that times fits at increasing budgets."""
    return [(int(kv["budget"]), float(kv["seconds"]), float(kv["err"])) for kv in run(path, args)]
