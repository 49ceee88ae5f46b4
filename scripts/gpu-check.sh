#!/usr/bin/env bash
# One command for a whole GPU check on a fresh CUDA machine (H100: sm_90):
# builds pensieve with the CUDA backend, runs the GPU tests (test_cuda), generates the
# benchmark models (tools/gen_model.py, random weights, real shapes), quantizes them with
# `pensieve quantize` and runs the GPU benchmark on each. Everything is logged to $LOG.
#
#   scripts/gpu-check.sh                 # tests + qwen2-0.5b benchmarks
#   BENCH_LLAMA8B=1 scripts/gpu-check.sh # also llama-8b (needs ~40 GB disk, a few minutes)
#   SKIP_BUILD=1 BIN=dir scripts/gpu-check.sh  # use prebuilt test_cuda + pensieve from dir
#
# A GPU machine without the build's Debian packages (no network to install them) can run binaries
# built elsewhere for sm_90: SKIP_BUILD=1 BIN=dir, LD_LIBRARY_PATH naming a folder with the shared
# libraries they need (libpcre2-8), SHARED naming a copy of
# ../shared (fixtures/ and tools/), LOG and MODELS where to write. bench/RESULTS.md's CUDA section
# was measured that way.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-gpu}
LOG=${LOG:-$BUILD_DIR/gpu-check.log}
SHARED=${SHARED:-../shared}
MODELS=${MODELS:-/tmp/pensieve-bench}
ARCH=${CUDA_ARCH:-90}
mkdir -p "$(dirname "$LOG")" "$MODELS"
exec > >(tee "$LOG") 2>&1

echo "== gpu-check $(date -u +%FT%TZ)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true

if [ -z "${SKIP_BUILD:-}" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPENSIEVE_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES="$ARCH" -DCMAKE_CUDA_STANDARD=17
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target test_cuda test_engine pensieve
  BIN=$BUILD_DIR
fi
BIN=${BIN:-$BUILD_DIR}

echo "== GPU tests"
"$BIN/test_cuda" --gtest_brief=1
# The batching engine on the GPU: 16 requests at once vs each alone (greedy tokens).
"$BIN/test_engine" --gtest_filter='BatchingCuda.*' --gtest_brief=1 || echo "gpu-check: batching invariance on the GPU FAILED"

echo "== benchmark models"
gen() {  # shape dtype-out
  [ -f "$MODELS/$1-f16.gguf" ] || python3 "$SHARED/tools/gen_model.py" --shape "$1" --out "$MODELS/$1-f16.gguf" --quiet
  for q in Q8_0 Q4_K_M; do
    [ -f "$MODELS/$1-$q.gguf" ] || "$BIN/pensieve" quantize "$MODELS/$1-f16.gguf" "$MODELS/$1-$q.gguf" "$q"
  done
}
gen qwen2-0.5b
list="$MODELS/qwen2-0.5b-Q8_0.gguf,$MODELS/qwen2-0.5b-Q4_K_M.gguf,$MODELS/qwen2-0.5b-f16.gguf"
if [ -n "${BENCH_LLAMA8B:-}" ]; then
  gen llama-8b
  list="$list,$MODELS/llama-8b-Q8_0.gguf,$MODELS/llama-8b-Q4_K_M.gguf"
fi

echo "== GPU benchmarks (pp512 / tg128, tokens/s)"
PENSIEVE_CUDA_BENCH="$list" "$BIN/test_cuda" --gtest_filter='CudaBench.*' | grep '^{'
echo "== done; log in $LOG"
