#!/usr/bin/env bash
# Runs gpu_bench on a lent GPU machine (see the developers' guide): one prepared script,
# bounded (at most 8 minutes: 240 + 120 + 120 s, inside one 10-minute command), printing
# the table for benches/README.md.
#
# Prepare here, once (a release binary built on this machine travels as a carried path):
#   cargo build --release -p dictum-benches --bin gpu_bench
#   mkdir -p .gpu-bench && cp target/release/gpu_bench .gpu-bench/   # .gpu-bench/ is git-ignored
#   the Vulkan loader, if the GPU machine lacks it (device README): .gl/*.deb
# Then `run` with carry [".gpu-bench", ".gl"] and command `bash benches/gpu/device_run.sh`.
set -u
if ls .gl/*.deb >/dev/null 2>&1; then
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
fi
if ! ldconfig -p | grep -q libvulkan; then
    echo "no Vulkan loader (libvulkan.so.1): bring .gl/ (device README)" >&2
fi
# NVIDIA's ICD where the container keeps it, when the loader finds no driver by itself.
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
           /etc/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$icd" ]; then
        export VK_DRIVER_FILES="$icd"
        break
    fi
done
egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
[ -f "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES="$egl"
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv 2>&1 | head -3
bin=.gpu-bench/gpu_bench
[ -x "$bin" ] || bin=target/release/gpu_bench
timeout 240 "$bin" --device gpu --threads "$(nproc)" --peak-tflops "${PEAK_TFLOPS:-67}" --kernel-times --only gemm,omp,nmf 2>&1
# K-SVD and SMT separately, so that a slow section cannot hide the others' figures: the GPU
# alone first (a full-scale CPU K-SVD iteration can take minutes), then with the CPU beside it.
timeout 120 "$bin" --device gpu --threads "$(nproc)" --only ksvd,smt --gpu-only --kernel-times 2>&1
timeout 120 "$bin" --device gpu --threads "$(nproc)" --only ksvd,smt 2>&1
