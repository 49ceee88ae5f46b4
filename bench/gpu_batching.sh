#!/usr/bin/env bash
# Batching measurements on a GPU machine (bench/RESULTS.md "Serving many streams"), side by side
# with llama-server built from the pinned llama.cpp snapshot (../shared/ANCHORS.md), on one
# llama-8b Q4_K_M file that both read.
#
#   bench/gpu_batching.sh prep     build llama.cpp (CUDA), write the model (gen_model.py +
#                                  llama-quantize), run the GPU tests incl. the batching ones
#   bench/gpu_batching.sh bench    pensieve bench --parallel (and the mat-vec A/B), serving loads
#                                  on pensieve serve and llama-server with bench/serve_load.py
#   bench/gpu_batching.sh long     long contexts and schemas: the 25k-prefix step profile, the
#                                  served 25k shared-prefix TTFT (three prefixes), and the
#                                  interleaved schema A/B at 1 and 32 streams with /metrics
#
# Environment: BIN (pensieve, test_cuda, test_engine), SHARED (fixtures/ and tools/), LLAMA_TAR
# (llamacpp.sh pack output), WORK (models, builds), OUT (logs and JSON lines).
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build}
SHARED=${SHARED:-../shared}
WORK=${WORK:-/tmp/pensieve-gpu}
OUT=${OUT:-$WORK/out}
LLAMA_TAR=${LLAMA_TAR:-}
MODEL=$WORK/llama-8b-q4_k_m.gguf
PY=python3; /usr/bin/python3 -c 'import numpy' 2>/dev/null && PY=/usr/bin/python3
mkdir -p "$WORK" "$OUT"
log() { echo "== $(date -u +%T) $*"; }

# HTTP through Python: a curl beside carried shared libraries (LD_LIBRARY_PATH) may not start.
http_get() { $PY -c "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())" "$1"; }
wait_http() {  # port
  for _ in $(seq 1 600); do http_get "http://127.0.0.1:$1/health" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}
engine_counters() {  # port: steps, forward and host seconds so far
  http_get "http://127.0.0.1:$1/metrics" | grep -E '^pensieve_engine_(steps|forward_seconds|host_seconds)_total' | tr '\n' ' '; echo
}

case "${1:-}" in
prep)
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  if [ -n "$LLAMA_TAR" ] && [ ! -x "$WORK/llama.cpp/build-cuda/bin/llama-server" ]; then
    (tar -xJf "$LLAMA_TAR" -C "$WORK" && bash "$SHARED/tools/anchor/llamacpp.sh" cuda "$WORK/llama.cpp" \
      > "$OUT/llama-build.log" 2>&1; echo "llama.cpp build rc=$?" >> "$OUT/llama-build.log") &
    build_pid=$!
  fi
  log "model"
  [ -f "$WORK/llama-8b-f16.gguf" ] || $PY "$SHARED/tools/gen_model.py" --shape llama-8b --out "$WORK/llama-8b-f16.gguf" --quiet
  log "GPU tests"
  "$BIN/test_cuda" --gtest_brief=1 2>&1 | tail -15
  "$BIN/test_engine" --gtest_filter='Batching*' --gtest_brief=1 2>&1 | tail -15
  if [ -n "${build_pid:-}" ]; then wait "$build_pid"; fi
  tail -2 "$OUT/llama-build.log" 2>/dev/null
  log "quantize"
  [ -f "$MODEL" ] || "$WORK/llama.cpp/build-cuda/bin/llama-quantize" "$WORK/llama-8b-f16.gguf" "$MODEL" Q4_K_M "$(nproc)" >/dev/null 2>&1 \
    || "$BIN/pensieve" quantize "$WORK/llama-8b-f16.gguf" "$MODEL" Q4_K_M
  ls -la "$WORK"
  ;;
bench)
  log "pensieve bench --parallel (decode t/s summed over sequences; prefill aggregate)"
  for ab in "" PENSIEVE_CUDA_GRAPH_MAX_TOKENS=64 PENSIEVE_CUDA_MMA_MIN_TOKENS=1000; do
    echo "A/B: ${ab:-default}"
    env $ab "$BIN/pensieve" bench -m "$MODEL" --device cuda -p 100 -n 128 -r 1 \
      --parallel 1,8,32,64 --json | tee -a "$OUT/bench-parallel.jsonl"
  done
  log "pensieve serve ${SERVE_ENV:-}"
  env ${SERVE_ENV:-} "$BIN/pensieve" serve -m "$MODEL" --device cuda --port 18080 --parallel 128 \
    --ctx 4096 --max-queue 256 --quiet > "$OUT/pensieve-serve.log" 2>&1 &
  srv=$!
  wait_http 18080 || { echo "pensieve serve did not start"; cat "$OUT/pensieve-serve.log"; }
  $PY bench/serve_load.py --port 18080 --n 1,8,32,64,128 --prompt-words 80 --max-tokens 256 --jsonl "$OUT/serve-pensieve.jsonl"
  $PY bench/serve_load.py --port 18080 --api anthropic --n 32 --offset 3000 --jsonl "$OUT/serve-pensieve.jsonl"
  $PY bench/serve_load.py --port 18080 --n 31 --late-after 3 --offset 5000 --jsonl "$OUT/serve-pensieve.jsonl"
  $PY "$SHARED/tools/oai_load.py" --port 18080 --label pensieve --jsonl "$OUT/oai-pensieve.jsonl" batch --n 1,8,32 --reps 1
  http_get http://127.0.0.1:18080/metrics | grep -E '^pensieve_(engine|kv_)' > "$OUT/pensieve-metrics.txt"
  kill "$srv"; wait "$srv"
  log "pensieve serve, 25k-token shared prefix"
  env ${SERVE_ENV:-} "$BIN/pensieve" serve -m "$MODEL" --device cuda --port 18081 --parallel 32 \
    --ctx 32768 --quiet > "$OUT/pensieve-serve-prefix.log" 2>&1 &
  srv=$!
  wait_http 18081 && $PY bench/serve_load.py --port 18081 --prefix-words 19000 --prefix-gap 3 --max-tokens 16 \
    --jsonl "$OUT/serve-pensieve.jsonl"
  kill "$srv"; wait "$srv"
  LS=$WORK/llama.cpp/build-cuda/bin/llama-server
  if [ -x "$LS" ]; then
    for np in 32 64; do
      log "llama-server -np $np"
      "$LS" -m "$MODEL" -ngl 99 -np "$np" -c $((np * 1024)) --cont-batching -fa --port 18090 > "$OUT/llama-server-$np.log" 2>&1 &
      ls_pid=$!
      wait_http 18090 || { echo "llama-server did not start"; tail "$OUT/llama-server-$np.log"; }
      n=1,8,32; [ "$np" = 64 ] && n=64
      $PY bench/serve_load.py --port 18090 --n $n --prompt-words 80 --max-tokens 256 --jsonl "$OUT/serve-llama-np$np.jsonl"
      [ "$np" = 32 ] && $PY "$SHARED/tools/oai_load.py" --port 18090 --label llama-server --jsonl "$OUT/oai-llama.jsonl" batch --n 1,8,32 --reps 1
      kill "$ls_pid"; wait "$ls_pid"
    done
  fi
  ;;
final)
  # One lease, the short way: the model, the batching GPU tests, the mat-mul A/B, then serving
  # with whichever path decoded 32 sequences faster.
  [ -f "$WORK/llama-8b-f16.gguf" ] || $PY "$SHARED/tools/gen_model.py" --shape llama-8b --out "$WORK/llama-8b-f16.gguf" --quiet
  [ -f "$MODEL" ] || "$BIN/pensieve" quantize "$WORK/llama-8b-f16.gguf" "$MODEL" Q4_K_M >/dev/null
  log "GPU tests"
  "$BIN/test_cuda" --gtest_filter='CudaMatmulMma*:*CudaMatmul.*' --gtest_brief=1 2>&1 | tail -6
  "$BIN/test_engine" --gtest_filter='BatchingCuda*' --gtest_brief=1 2>&1 | tail -6
  log "bench --parallel A/B"
  best=""; best_ts=0
  for ab in PENSIEVE_CUDA_MMA_MIN_TOKENS=0 PENSIEVE_CUDA_MMA_MIN_TOKENS=2 PENSIEVE_CUDA_MMA_MIN_TOKENS=9; do
    env $ab "$BIN/pensieve" bench -m "$MODEL" --device cuda -p 100 -n 128 -r 1 --parallel 1,8,32,64 --json \
      > "$OUT/b.jsonl" 2>/dev/null
    ts=$($PY -c "import json,sys; r=[json.loads(l) for l in open('$OUT/b.jsonl')]; print(' '.join('x%d=%.0f/%.0f' % (j['n_parallel'], j['avg_ts'], j['avg_pp_ts']) for j in r)); " )
    x32=$($PY -c "import json; print(int([json.loads(l) for l in open('$OUT/b.jsonl') if json.loads(l)['n_parallel']==32][0]['avg_ts']))")
    echo "$ab: $ts"
    sed "s/^{/{\"ab\":\"$ab\",/" "$OUT/b.jsonl" >> "$OUT/bench-parallel.jsonl"
    if [ "$x32" -gt "$best_ts" ]; then best=$ab; best_ts=$x32; fi
  done
  log "pensieve serve with $best"
  env $best "$BIN/pensieve" serve -m "$MODEL" --device cuda --port 18080 --parallel 64 --ctx 32768 --max-queue 256 \
    --quiet > "$OUT/pensieve-serve.log" 2>&1 &
  srv=$!
  wait_http 18080 || { echo "pensieve serve did not start"; cat "$OUT/pensieve-serve.log"; }
  $PY bench/serve_load.py --port 18080 --n 1,8,32,64 --prompt-words 80 --max-tokens 256 --jsonl "$OUT/serve-pensieve.jsonl"
  $PY bench/serve_load.py --port 18080 --n 31 --late-after 3 --offset 5000 --jsonl "$OUT/serve-pensieve.jsonl"
  $PY bench/serve_load.py --port 18080 --prefix-words 24000 --prefix-gap 3 --max-tokens 16 --jsonl "$OUT/serve-pensieve.jsonl"
  http_get http://127.0.0.1:18080/metrics | grep -E '^pensieve_(engine|kv_)' > "$OUT/pensieve-metrics.txt"
  kill "$srv"; wait "$srv"
  ;;
long)
  # bench/RESULTS.md "Long contexts on the GPU" and "On the H200: decode throughput with a schema".
  [ -f "$WORK/llama-8b-f16.gguf" ] || $PY "$SHARED/tools/gen_model.py" --shape llama-8b --out "$WORK/llama-8b-f16.gguf" --quiet
  [ -f "$MODEL" ] || "$BIN/pensieve" quantize "$WORK/llama-8b-f16.gguf" "$MODEL" Q4_K_M >/dev/null
  log "steps after a 25k-token prefix (ms per step, GPU ms per op)"
  PENSIEVE_CUDA_BENCH_LONG="$MODEL:25056" "$BIN/test_cuda" --gtest_filter=CudaBench.LongPrefixStep 2>&1 | grep '^{' \
    | tee -a "$OUT/long-prefix.jsonl" | cut -c1-200
  PENSIEVE_CUDA_BENCH_KERNELS=1 "$BIN/test_cuda" --gtest_filter=CudaBench.AttentionLongContext 2>&1 | grep '^{' \
    | tee -a "$OUT/attention-long.jsonl" | grep '"tokens":103'
  "$BIN/pensieve" serve -m "$MODEL" --device cuda --port 18080 --parallel 64 --ctx 32768 > "$OUT/pensieve-serve-long.log" 2>&1 &
  srv=$!
  wait_http 18080 || { echo "pensieve serve did not start"; cat "$OUT/pensieve-serve-long.log"; }
  $PY bench/serve_load.py --port 18080 --n 1 --max-tokens 16 > /dev/null  # warm-up
  log "25k shared prefix: the second request's first token, sent while the first decodes"
  for seed in 7 8 9; do
    $PY bench/serve_load.py --port 18080 --prefix-words 24000 --prefix-gap 5 --prefix-first-tokens 1024 \
      --max-tokens 16 --prefix-seed "$seed" --jsonl "$OUT/serve-long.jsonl"
  done
  log "schema A/B, interleaved (engine counters before each burst; per-sequence t/s in the server log)"
  for rep in 1 2 3; do
    for schema in "" "--json-schema bench/grammar/notes_schema.json"; do
      for n in 1 32; do
        engine_counters 18080
        $PY bench/serve_load.py --port 18080 --n "$n" --max-tokens 256 --offset $((400 + n + rep * 50)) $schema \
          --jsonl "$OUT/serve-schema.jsonl" | $PY -c 'import json, sys; d = json.load(sys.stdin); print({k: d[k] for k in ("n_parallel", "json_schema", "aggregate_tps", "tpot_ms", "output_tokens", "wall_s", "errors")})'
      done
    done
  done
  engine_counters 18080
  kill "$srv"; wait "$srv"
  ;;
*) sed -n 2,16p "$0"; exit 2 ;;
esac
