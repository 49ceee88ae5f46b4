#!/usr/bin/env bash
# Runs one Claude Code print-mode turn against `pensieve serve`, both inside the current network
# namespace (the caller uses `unshare -n`, so only loopback exists and nothing else is reachable).
# usage: claude_code.sh PENSIEVE_BIN MODEL CLI_JS WORKDIR
set -eu
BIN=$1 MODEL=$2 CLI=$3 WORK=$4
ip link set lo up
"$BIN" serve -m "$MODEL" --port 0 --ctx 16384 >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT
for _ in $(seq 1 300); do
  PORT=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$WORK/serve.err" 2>/dev/null | grep -o '[0-9]*$' || true)
  if [ -n "$PORT" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health")" = 200 ]; then break; fi
  sleep 0.1
done
[ -n "${PORT:-}" ] || { echo "server did not start"; cat "$WORK/serve.err"; exit 1; }
mkdir -p "$WORK/home/.claude"
echo '{"skipWebFetchPreflight": true}' >"$WORK/home/.claude/settings.json"
echo '{"hasCompletedOnboarding": true}' >"$WORK/home/.claude.json"
cd "$WORK"
set +e
# Claude Code asks for 32000 output tokens; a cap bounds the turn even if EOS never comes.
# Three of its real tools (not all of them) keep its first request near 10k tokens: the tiny
# model's CPU prefill is quadratic in the prompt (attention), 4-5 s for this one on 2 cores
# instead of 20-50 s for the ~25.6k tokens of the full tool set. The bound is 10x that;
# scripts/coverage.sh raises it (PENSIEVE_CC_BOUND_S), as its instrumented build is ~10x slower.
BOUND=${PENSIEVE_CC_BOUND_S:-50}
START=$(date +%s%N)
HOME="$WORK/home" ANTHROPIC_BASE_URL="http://127.0.0.1:$PORT" ANTHROPIC_API_KEY=local-test \
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_TELEMETRY=1 DISABLE_ERROR_REPORTING=1 \
  DISABLE_AUTOUPDATER=1 CLAUDE_CODE_MAX_RETRIES=0 API_TIMEOUT_MS=$((BOUND * 1000)) \
  CLAUDE_CODE_MAX_OUTPUT_TOKENS=4096 \
  timeout "$BOUND" node "$CLI" -p "Say hello." --output-format json --max-turns 1 --tools Bash,Read,Edit \
  >"$WORK/claude.json" 2>"$WORK/claude.err"
RC=$?
echo "claude turn: $(( ($(date +%s%N) - START) / 1000000 )) ms (bound $((BOUND * 1000)) ms)"
set -e
echo "claude exit: $RC"
cat "$WORK/claude.json"; echo
echo "--- claude stderr"; tail -20 "$WORK/claude.err"
echo "--- server log"; cat "$WORK/serve.err"
exit $RC
