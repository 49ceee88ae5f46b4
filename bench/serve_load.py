#!/usr/bin/env python3
"""Serving load for `pensieve serve` (or any server speaking the same APIs): N concurrent
streaming clients, OpenAI Chat Completions or Anthropic Messages, each with its own prompt,
released together. Reports per N: aggregate output t/s, time to first token and inter-token
latency percentiles (client-side, from the SSE events). Python standard library only.

  bench/serve_load.py --port 8080 --api openai --n 1,8,32 --prompt-words 80 --max-tokens 256
  bench/serve_load.py --port 8080 --api anthropic --n 32 --jsonl out.jsonl
  bench/serve_load.py --port 8080 --n 31 --late-after 3      # + one request while 31 decode: its TTFT
  bench/serve_load.py --port 8080 --n 1,32 --json-schema S.json  # every reply constrained to a schema
  bench/serve_load.py --port 8080 --prefix-words 19000       # a ~25k-token system prompt: a first
      request decodes while a second with the same prefix arrives; its TTFT and cached tokens

One JSON line per N on stdout (and appended to --jsonl).
"""

import argparse
import http.client
import json
import random
import threading
import time

VOCAB = ("apple river stone cloud garden window yellow quiet market bridge lantern forest copper "
         "engine signal harbor meadow pencil rocket silver thunder velvet winter orbit canyon").split()


def prompt_text(i, n_words):
    rng = random.Random(1000 + i)
    return f"Request {i}: " + " ".join(rng.choice(VOCAB) for _ in range(n_words))


def request(api, i, args, system=None):
    text = prompt_text(i, args.prompt_words)
    if api == "openai":
        msgs = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": text}]
        body = {"model": "local", "stream": True, "max_tokens": args.max_tokens, "temperature": 0,
                "stream_options": {"include_usage": True}, "messages": msgs}
        if args.json_schema:  # constrained decoding: the server's grammar masks every token
            with open(args.json_schema) as f:
                schema = json.load(f)
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "answer", "strict": True, "schema": schema}}
        return "/v1/chat/completions", body, {"authorization": f"Bearer {args.api_key}"}
    body = {"model": "claude-sonnet-4-5", "stream": True, "max_tokens": args.max_tokens, "temperature": 0,
            "messages": [{"role": "user", "content": text}]}
    return "/v1/messages", body, {"x-api-key": args.api_key, "anthropic-version": "2023-06-01"}


def run_one(api, i, args, barrier, out, slot, system=None):
    path, body, headers = request(api, i, args, system)
    headers["content-type"] = "application/json"
    conn = http.client.HTTPConnection(args.host, args.port, timeout=args.timeout)
    if barrier is not None:
        barrier.wait()
    t0 = time.perf_counter()
    conn.request("POST", path, json.dumps(body), headers)
    resp = conn.getresponse()
    stamps, n_out, error, cached = [], 0, None, None
    if resp.status != 200:
        error = f"HTTP {resp.status}: {resp.read()[:200]!r}"
    else:
        for raw in resp:
            line = raw.decode("utf-8", "replace").strip()
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            ev = json.loads(data)
            if api == "openai":
                if ev.get("error"):
                    error = str(ev["error"])
                for ch in ev.get("choices", []):
                    if ch.get("delta", {}).get("content"):
                        stamps.append(time.perf_counter())
                if ev.get("usage"):
                    n_out = ev["usage"].get("completion_tokens", n_out)
                    cached = (ev["usage"].get("prompt_tokens_details") or {}).get("cached_tokens")
            else:
                kind = ev.get("type")
                if kind == "content_block_delta":
                    stamps.append(time.perf_counter())
                elif kind == "message_delta":
                    n_out = ev.get("usage", {}).get("output_tokens", n_out)
                elif kind == "error":
                    error = str(ev.get("error"))
    t1 = time.perf_counter()
    conn.close()
    out[slot] = {"t0": t0, "t1": t1, "stamps": stamps, "n_out": n_out or len(stamps), "error": error, "cached": cached}


def pct(values, p):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def measure(api, n, args):
    barrier = threading.Barrier(n)
    out = [None] * n
    threads = [threading.Thread(target=run_one, args=(api, args.offset + i, args, barrier, out, i)) for i in range(n)]
    for t in threads:
        t.start()
    late = None
    if args.late_after:
        time.sleep(args.late_after)
        late = [None]
        run_one(api, args.offset + n, args, None, late, 0)
    for t in threads:
        t.join()
    errors = [r["error"] for r in out if r["error"]]
    start = min(r["t0"] for r in out)
    wall = max(r["t1"] for r in out) - start
    ttft = [(r["stamps"][0] - r["t0"]) * 1000 for r in out if r["stamps"]]
    itl = [(b - a) * 1000 for r in out for a, b in zip(r["stamps"], r["stamps"][1:])]
    # Time per output token of each stream after its first (as vLLM's benchmark reports it): unlike
    # the aggregate it does not drop when some streams end early (a JSON object completed).
    tpot = [(r["stamps"][-1] - r["stamps"][0]) * 1000 / (r["n_out"] - 1) for r in out if len(r["stamps"]) > 1 and r["n_out"] > 1]
    tokens = sum(r["n_out"] for r in out)
    r = {"api": api, "n_parallel": n, "json_schema": args.json_schema, "prompt_words": args.prompt_words, "max_tokens": args.max_tokens,
            "aggregate_tps": tokens / wall, "wall_s": wall, "output_tokens": tokens, "errors": len(errors),
            "first_error": errors[0] if errors else None,
            "ttft_ms": {"p50": pct(ttft, 50), "p90": pct(ttft, 90), "p99": pct(ttft, 99)},
            "itl_ms": {"p50": pct(itl, 50), "p90": pct(itl, 90), "p99": pct(itl, 99)},
            "tpot_ms": {"mean": sum(tpot) / len(tpot) if tpot else None, "p50": pct(tpot, 50), "p90": pct(tpot, 90)}}
    if late:
        lr = late[0]
        r["late_ttft_ms"] = (lr["stamps"][0] - lr["t0"]) * 1000 if lr["stamps"] else None
        r["late_error"] = lr["error"]
    return r


def measure_prefix(args):
    """A long shared system prompt: request A starts cold and decodes (prefix_first_tokens); while
    it does, request B with the same system prompt and another question arrives. B's TTFT and
    cached tokens."""
    rng = random.Random(args.prefix_seed)
    system = " ".join(rng.choice(VOCAB) for _ in range(args.prefix_words))
    first, second = [None], [None]
    a_args = argparse.Namespace(**vars(args))
    a_args.max_tokens = args.prefix_first_tokens
    a = threading.Thread(target=run_one, args=("openai", 0, a_args, None, first, 0, system))
    a.start()
    time.sleep(args.prefix_gap)
    run_one("openai", 1, args, None, second, 0, system)
    a.join()
    f, b = first[0], second[0]
    return {"test": "prefix", "prefix_words": args.prefix_words,
            "cold_ttft_ms": (f["stamps"][0] - f["t0"]) * 1000 if f["stamps"] else None,
            "second_ttft_ms": (b["stamps"][0] - b["t0"]) * 1000 if b["stamps"] else None,
            "second_cached_tokens": b["cached"], "second_sent_while_first_decoded": bool(f["stamps"]) and f["stamps"][0] < b["t0"] < f["t1"],
            "errors": [x["error"] for x in (f, b) if x["error"]]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--api", choices=["openai", "anthropic"], default="openai")
    ap.add_argument("--n", default="1,8,32", help="comma-separated concurrent stream counts")
    ap.add_argument("--prompt-words", type=int, default=80)
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--api-key", default="local")
    ap.add_argument("--offset", type=int, default=0, help="first prompt index (distinct prompts per run)")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--late-after", type=float, default=0,
                    help="seconds after the N streams start to send one more request (its TTFT is reported)")
    ap.add_argument("--prefix-words", type=int, default=0, help="run the shared-prefix test instead")
    ap.add_argument("--prefix-gap", type=float, default=3.0, help="seconds after the first request starts")
    ap.add_argument("--prefix-seed", type=int, default=7, help="another seed: another system prompt (a cold first request)")
    ap.add_argument("--prefix-first-tokens", type=int, default=2048, help="tokens the first request generates")
    ap.add_argument("--json-schema", help="OpenAI only: constrain every reply to this JSON Schema file")
    ap.add_argument("--jsonl")
    args = ap.parse_args()
    if args.prefix_words:
        line = json.dumps(measure_prefix(args))
        print(line, flush=True)
        if args.jsonl:
            with open(args.jsonl, "a") as f:
                f.write(line + "\n")
        return
    for n in [int(x) for x in args.n.split(",")]:
        r = measure(args.api, n, args)
        args.offset += n
        line = json.dumps(r)
        print(line, flush=True)
        if args.jsonl:
            with open(args.jsonl, "a") as f:
                f.write(line + "\n")


if __name__ == "__main__":
    main()
