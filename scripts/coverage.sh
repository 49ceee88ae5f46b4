#!/usr/bin/env bash
# Line coverage of the whole suite (unit, fixture, CLI and client e2e tests), with gcov + lcov
# from Debian (scripts/setup.sh installs lcov). Builds into build-coverage/ (CPU only, -O1 so the
# model tests stay fast), runs ctest there, and prints a per-folder line-coverage table of src/.
# usage: scripts/coverage.sh [ctest args...]     e.g. scripts/coverage.sh -R 'server|engine'
# Output: build-coverage/coverage/summary.md (the table), coverage.info, and an HTML report in
# build-coverage/coverage/html/index.html.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD_DIR=${BUILD_DIR:-build-coverage}
command -v lcov >/dev/null || { echo "coverage: lcov is not installed (scripts/setup.sh installs it)"; exit 1; }
command -v gcov >/dev/null || { echo "coverage: gcov is not installed (it comes with g++)"; exit 1; }

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPENSIEVE_CUDA=OFF \
    -DCMAKE_CXX_FLAGS="-O1 -g --coverage -fprofile-update=atomic" \
    -DCMAKE_EXE_LINKER_FLAGS="--coverage" -DCMAKE_SHARED_LINKER_FLAGS="--coverage"
fi
cmake --build "$BUILD_DIR" -j"$(nproc)"

OUT="$BUILD_DIR/coverage"
mkdir -p "$OUT"
find "$BUILD_DIR" -name '*.gcda' -delete   # counts of this run only
# The instrumented -O1 build runs the model ~10x slower: Claude Code's turn gets a 10x bound too.
export PENSIEVE_CC_BOUND_S=${PENSIEVE_CC_BOUND_S:-500}
(cd "$BUILD_DIR" && ctest --output-on-failure -j"$(nproc)" --timeout 2400 "$@") || echo "coverage: some tests failed (the figures below still count what ran)"

lcov --quiet --capture --directory "$BUILD_DIR" --output-file "$OUT/all.info" --rc lcov_branch_coverage=0 --ignore-errors mismatch,gcov 2>/dev/null \
  || lcov --quiet --capture --directory "$BUILD_DIR" --output-file "$OUT/all.info"
lcov --quiet --extract "$OUT/all.info" "$ROOT/src/*" --output-file "$OUT/coverage.info"
genhtml --quiet --output-directory "$OUT/html" "$OUT/coverage.info" >/dev/null 2>&1 || true

# Per-folder summary from the tracefile: SF: names a file, LF:/LH: its found/hit line counts.
awk -v root="$ROOT/src/" '
  /^SF:/ { f = substr($0, 4); sub(root, "", f); n = split(f, p, "/");
           dir = (n > 2 && p[1] == "backend") ? p[1] "/" p[2] : (n > 1 ? p[1] : "."); }
  /^LF:/ { found[dir] += substr($0, 4); tf += substr($0, 4) }
  /^LH:/ { hit[dir] += substr($0, 4); th += substr($0, 4) }
  END {
    print "| folder | lines hit / found | line coverage |";
    print "| --- | ---: | ---: |";
    for (d in found) printf "| src/%s | %d / %d | %.1f %% |\n", d, hit[d], found[d], 100 * hit[d] / found[d] | "sort";
    close("sort");
    printf "| **all of src/** | %d / %d | **%.1f %%** |\n", th, tf, 100 * th / tf;
  }' "$OUT/coverage.info" >"$OUT/summary.md"
cat "$OUT/summary.md"
echo "coverage: HTML report in $OUT/html/index.html"
