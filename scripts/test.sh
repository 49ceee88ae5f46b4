#!/usr/bin/env bash
# Runs the whole test suite (unit, fixture, CLI and client e2e tests) and prints ctest's summary.
# Tests that need ../shared/fixtures or a GPU skip with a visible message when those are absent.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$BUILD_DIR" -j"$(nproc)"
cd "$BUILD_DIR"
ctest --output-on-failure -j"$(nproc)" --timeout 1200 "$@"
