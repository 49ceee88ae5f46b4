#!/usr/bin/env bash
# End-to-end tests of `pensieve serve` with the official Anthropic and OpenAI SDKs (node:test).
# usage: run.sh PENSIEVE_BINARY SHARED_DIR
# Prints a visible SKIP and exits 0 when node, the npm packages or the fixtures are unavailable.
set -u
BIN=${1:-}
SHARED=${2:-}
HERE=$(cd "$(dirname "$0")" && pwd)

skip() { echo "SKIP: client tests: $*"; exit 0; }

[ -n "$BIN" ] && [ -x "$BIN" ] || skip "pensieve binary not found: '$BIN'"
[ -d "$SHARED/fixtures" ] || skip "fixtures not found at '$SHARED/fixtures'"
command -v node >/dev/null 2>&1 || skip "node is not installed"
if [ ! -d "$HERE/node_modules/@anthropic-ai/sdk" ] || [ ! -d "$HERE/node_modules/openai" ]; then
  command -v npm >/dev/null 2>&1 || skip "npm is not installed"
  (cd "$HERE" && npm ci --no-audit --no-fund >/dev/null 2>&1) || skip "npm ci failed (no registry?)"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pensieve-clients.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
/usr/bin/python3 "$SHARED/tools/gen_model.py" --shape tiny-qwen2 --ctx 65536 \
  --chat-template "$SHARED/fixtures/chat-templates/Qwen-Qwen2.5-7B-Instruct.jinja" \
  --out "$WORK/tiny-qwen2.gguf" --quiet || skip "could not generate the test model (python3-numpy?)"

# Claude Code's turn needs a model that ends its answers (see make_ending_model.py).
/usr/bin/python3 "$HERE/make_ending_model.py" "$WORK/tiny-qwen2.gguf" "$WORK/tiny-qwen2-ending.gguf" \
  && export PENSIEVE_ENDING_MODEL="$WORK/tiny-qwen2-ending.gguf"

export PENSIEVE_BIN="$BIN"
export PENSIEVE_TEST_MODEL="$WORK/tiny-qwen2.gguf"
export PENSIEVE_TEST_WORK="$WORK"
cd "$HERE"
# One file at a time: each starts its own servers, and the machine may have only 2 cores.
exec node --test --test-concurrency=1 test/*.test.mjs
