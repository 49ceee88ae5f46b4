#!/usr/bin/env bash
# Executable evaluation of `pensieve cmd` (tests/cmd_eval): asks the model for each request's
# command, runs it and the reference in throwaway copies of a fixture tree (no network, the rest of
# the filesystem read-only, a time limit) and prints the pass rate per category and overall.
#   scripts/cmd-eval.sh [--model FILE.gguf] [--verbose] [--category C] [--json-out F] [--self-check]
# Without --model: the shipped model (models/pensieve-cmd.gguf). Needs build/pensieve (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${PENSIEVE_BIN:-build/pensieve}
if [ ! -x "$BIN" ]; then
  echo "cmd-eval: $BIN is missing: run scripts/setup.sh (or cmake --build build --target pensieve)" >&2
  exit 1
fi
exec /usr/bin/python3 tests/cmd_eval/eval.py --binary "$BIN" "$@"
