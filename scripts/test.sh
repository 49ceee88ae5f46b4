#!/usr/bin/env bash
# Runs the whole test suite (unit, fixture, CLI and client e2e tests) and prints ctest's summary.
# A test whose prerequisite is missing (../shared/fixtures, node/npm packages, python3-numpy,
# `unshare -n`) shows as Skipped in ctest's summary; with CI set (CI=1 scripts/test.sh) it fails
# instead, as nothing but the GPU tests may skip where scripts/setup.sh has run.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$BUILD_DIR" -j"$(nproc)"
cd "$BUILD_DIR"
ctest --output-on-failure -j"$(nproc)" --timeout 1200 "$@"
