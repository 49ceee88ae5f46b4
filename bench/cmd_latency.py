#!/usr/bin/env python3
"""Latency of `pensieve cmd`: process start to the printed command, over N fresh processes.

Each run starts `pensieve cmd --json` (threads as given, the CPU) and measures, from just before
the process is started, the time until its output line arrives (the command is printed at that
point; the process's own teardown is not counted), and the CPU time the whole process used (user +
system, all threads: on a busy machine the wall time measures the scheduler too). The JSON gives the engine-side split: load_ms
(process entry to a loaded model), ttft_ms, generate_ms, and the tokens generated. Prints one JSON
line with medians and the 90th percentile.

  bench/cmd_latency.py [--binary build/pensieve] [--model FILE] [--runs 20] [--threads 2] [REQUEST]
"""

import argparse
import json
import os
import statistics
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(HERE, "..", "build", "pensieve"))
    ap.add_argument("--model", help="default: the shipped model")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("request", nargs="?", default="find all python files changed in the last day")
    args = ap.parse_args()

    argv = [args.binary, "cmd", "--json", "--device", "cpu", "-t", str(args.threads), "--shell", "bash",
            "--os", "linux"]
    if args.model:
        argv += ["-m", args.model]
    argv.append(args.request)
    walls, loads, ttfts, gens, tokens, cpus, command = [], [], [], [], [], [], None
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # page cache warm
    for _ in range(args.runs):
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = p.stdout.readline()
        wall = (time.perf_counter() - t0) * 1000
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        cpus.append((usage.ru_utime + usage.ru_stime) * 1000)
        if p.returncode not in (0, 3):
            raise SystemExit(f"pensieve cmd failed ({p.returncode}): {p.stderr.read().decode(errors='replace')}")
        j = json.loads(line)
        command = j["command"]
        t = j["timings"]
        walls.append(wall)
        loads.append(t["load_ms"])
        ttfts.append(t["ttft_ms"])
        gens.append(t["generate_ms"])
        tokens.append(t["generated_tokens"])
    print(json.dumps({
        "bench": "cmd_latency", "model": j["model"]["name"], "variant": j["model"]["variant"],
        "threads": args.threads, "runs": args.runs, "request": args.request, "command": command,
        "generated_tokens": statistics.median(tokens),
        "start_to_command_ms": {"median": round(statistics.median(walls), 1), "p90": round(pct(walls, 0.9), 1)},
        "process_cpu_ms": {"median": round(statistics.median(cpus), 1), "p90": round(pct(cpus, 0.9), 1)},
        "load_ms": {"median": round(statistics.median(loads), 1), "p90": round(pct(loads, 0.9), 1)},
        "ttft_ms": {"median": round(statistics.median(ttfts), 1), "p90": round(pct(ttfts, 0.9), 1)},
        "generate_ms": {"median": round(statistics.median(gens), 1), "p90": round(pct(gens, 0.9), 1)},
    }))


if __name__ == "__main__":
    main()
