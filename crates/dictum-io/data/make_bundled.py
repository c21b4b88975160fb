#!/usr/bin/env python3
"""Builds the datasets bundled in dictum-io from ../../../../shared/data (see its README for
their sources and licences). Run from this folder:  python3 make_bundled.py [SHARED_DATA_DIR]

Each file is the shared .npy, gzip-compressed (mtime 0, so re-running is byte-identical).
The 8x8 patch sets are not copied (3.9 MB compressed): they are cut from the bundled
full-resolution images at the same corners as make_data.py, whose corner tables
(numpy.random.default_rng(seed), rows then columns) are stored here as int32 arrays.
"""
import gzip
import io
import os
import sys

import numpy as np

SRC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../../../shared/data")
COPY = ["digits_X", "digits_y", "china_gray", "flower_gray", "china_gray_small",
        "flower_gray_small", "flower_gray_small_noisy20"]


def write_gz(name, arr):
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    with open(name + ".npy.gz", "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", compresslevel=9, mtime=0, filename="") as g:
            g.write(buf.getvalue())


for name in COPY:
    write_gz(name, np.load(os.path.join(SRC, name + ".npy")))

for split, image, n, seed in [("train", "china_gray", 20000, 0), ("test", "flower_gray", 5000, 1)]:
    img = np.load(os.path.join(SRC, image + ".npy"))
    h, w = img.shape
    rng = np.random.default_rng(seed)
    r = rng.integers(0, h - 8 + 1, size=n)
    c = rng.integers(0, w - 8 + 1, size=n)
    corners = np.stack([r, c], axis=1).astype("<i4")
    # Check the reconstruction against the shared file before bundling the table.
    patches = img[r[:, None, None] + np.arange(8)[None, :, None],
                  c[:, None, None] + np.arange(8)[None, None, :]].reshape(n, 64)
    ref = np.load(os.path.join(SRC, f"patches8_{split}.npy"))
    assert np.array_equal(patches, ref), split
    write_gz(f"patches8_{split}_corners", corners)
print("ok")
