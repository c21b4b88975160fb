"""Synthetic MNIST-sized images for the SMT scaling run: 28x28 float32 images of a few
random thick strokes on a black background (like handwritten digits, mostly blank).

    python3 benches/smt_synthetic.py OUT.npy [N]      # default N = 60000, seed 0

Then (see docs/smt.md):

    /usr/bin/time -v target/release/dictum smt fit --images OUT.npy --patch 6 \
        --atoms 16384 --dims 16 --threshold 0.3 --max-active 8 --out model/
"""
import sys

import numpy as np


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 60000
    rng = np.random.default_rng(0)
    size = 28
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    imgs = np.zeros((n, size, size), np.float32)
    for start in range(0, n, 1000):
        stop = min(n, start + 1000)
        b = stop - start
        canvas = np.zeros((b, size, size), np.float32)
        for _ in range(3):
            # A stroke: a segment between two random points in the central 20x20 box.
            p = rng.uniform(4, 24, size=(b, 2, 2)).astype(np.float32)
            t = np.linspace(0, 1, 24, dtype=np.float32)
            pts = p[:, 0, None, :] * (1 - t[None, :, None]) + p[:, 1, None, :] * t[None, :, None]
            for k in range(len(t)):
                d2 = (yy[None] - pts[:, k, 0, None, None]) ** 2 + (xx[None] - pts[:, k, 1, None, None]) ** 2
                canvas = np.maximum(canvas, np.exp(-d2 / 2.0))
        imgs[start:stop] = canvas
    np.save(out, imgs)
    print(f"wrote {out}: {imgs.shape}, mean {imgs.mean():.3f}, blank share {(imgs < 0.05).mean():.2f}")


if __name__ == "__main__":
    main()
