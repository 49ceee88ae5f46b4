#!/usr/bin/env bash
# End-to-end tests of `pensieve serve` with the official Anthropic and OpenAI SDKs (node:test).
# usage: run.sh PENSIEVE_BINARY SHARED_DIR [TEST_FILE...]   (default: every test/*.test.mjs)
# A missing prerequisite (node, the npm packages, python3-numpy, the fixtures, a network
# namespace for Claude Code) is a failure when CI is set, and otherwise a visible skip: exit 77,
# which ctest reports as "Skipped" (SKIP_RETURN_CODE in CMakeLists.txt), never as "Passed".
set -u
BIN=${1:-}
SHARED=${2:-}
shift 2 || true
HERE=$(cd "$(dirname "$0")" && pwd)

in_ci() { [ -n "${CI:-}" ] && [ "${CI:-}" != 0 ] && [ "${CI:-}" != false ]; }
skip() {
  if in_ci; then echo "FAIL: client tests: $* (CI is set: nothing may skip)"; exit 1; fi
  echo "SKIP: client tests: $*"; exit 77
}
fail() { echo "FAIL: client tests: $*"; exit 1; }

[ -n "$BIN" ] && [ -x "$BIN" ] || fail "pensieve binary not found: '$BIN'"
[ -d "$SHARED/fixtures" ] || skip "fixtures not found at '$SHARED/fixtures'"
command -v node >/dev/null 2>&1 || skip "node is not installed (scripts/setup.sh installs it)"
/usr/bin/python3 -c 'import numpy' 2>/dev/null || skip "python3-numpy is not installed (scripts/setup.sh installs it)"
# The npm packages are installed by scripts/setup.sh (npm ci); a test run writes nothing into
# the source tree, so it does not install them itself.
if [ ! -d "$HERE/node_modules/@anthropic-ai/sdk" ] || [ ! -d "$HERE/node_modules/openai" ] || [ ! -d "$HERE/node_modules/ollama" ]; then
  skip "the npm packages are not installed in tests/clients/node_modules (scripts/setup.sh runs npm ci)"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pensieve-clients.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
/usr/bin/python3 "$SHARED/tools/gen_model.py" --shape tiny-qwen2 --ctx 65536 \
  --chat-template "$SHARED/fixtures/chat-templates/Qwen-Qwen2.5-7B-Instruct.jinja" \
  --out "$WORK/tiny-qwen2.gguf" --quiet || fail "gen_model.py could not make the test model"

# Claude Code's turn needs a model that ends its answers (see make_ending_model.py); no fallback.
/usr/bin/python3 "$HERE/make_ending_model.py" "$WORK/tiny-qwen2.gguf" "$WORK/tiny-qwen2-ending.gguf" \
  || fail "make_ending_model.py could not make the ending model"
export PENSIEVE_ENDING_MODEL="$WORK/tiny-qwen2-ending.gguf"

export PENSIEVE_BIN="$BIN"
export PENSIEVE_TEST_MODEL="$WORK/tiny-qwen2.gguf"
export PENSIEVE_TEST_WORK="$WORK"
export PENSIEVE_SHARED_DIR="$SHARED"
cd "$HERE"
if [ $# -eq 0 ]; then set -- test/*.test.mjs; fi
# One file at a time: each starts its own servers, and the machine may have only 2 cores.
node --test --test-concurrency=1 "$@" 2>&1 | tee "$WORK/node.out"
RC=${PIPESTATUS[0]}
[ "$RC" = 0 ] || exit "$RC"
# node:test exits 0 when a test skips: make that visible too (or a failure under CI).
SKIPPED=$(grep -Eo '^(# |ℹ )skipped [0-9]+' "$WORK/node.out" | grep -Eo '[0-9]+$' || echo 0)
if [ "${SKIPPED:-0}" != 0 ]; then skip "$SKIPPED node test(s) skipped (see the SKIP lines above)"; fi
exit 0
