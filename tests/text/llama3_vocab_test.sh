#!/usr/bin/env bash
# ctest tokenizer_llama3_vectors: writes the Llama 3 vocab GGUF with tests/clients/llama3_vocab.mjs
# (npm package llama3-tokenizer-js, installed by scripts/setup.sh) and checks pensieve's tokenizer
# on it against llama.cpp's llama-bpe vectors (test_text's GeneratedVocab suite).
# usage: llama3_vocab_test.sh TEST_TEXT_BINARY SHARED_DIR OUT.gguf
# A missing prerequisite (the fixtures, node, the npm package) is a failure when CI is set, and
# otherwise a visible skip: exit 77, which ctest reports as "Skipped" (checked here because a
# gtest skip inside the run would show as "Passed").
set -u
TEST_TEXT=$1
SHARED=$2
OUT=$3
HERE=$(cd "$(dirname "$0")/../clients" && pwd)

in_ci() { [ -n "${CI:-}" ] && [ "${CI:-}" != 0 ] && [ "${CI:-}" != false ]; }
skip() {
  if in_ci; then echo "FAIL: $* (CI is set: nothing may skip)"; exit 1; fi
  echo "SKIP: $*"; exit 77
}

[ -d "$SHARED/fixtures/tokenizer" ] || skip "fixtures not found at '$SHARED/fixtures'"
command -v node >/dev/null 2>&1 || skip "node is not installed (scripts/setup.sh installs it)"
[ -d "$HERE/node_modules/llama3-tokenizer-js" ] ||
  skip "llama3-tokenizer-js is not installed in tests/clients/node_modules (scripts/setup.sh runs npm ci)"
mkdir -p "$(dirname "$OUT")"
node "$HERE/llama3_vocab.mjs" "$OUT" || { echo "FAIL: llama3_vocab.mjs could not write $OUT"; exit 1; }
PENSIEVE_LLAMA3_VOCAB="$OUT" exec "$TEST_TEXT" --gtest_filter='GeneratedVocab.*'
