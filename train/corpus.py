#!/usr/bin/python3
"""Corpus generator for pensieve-cmd: (shell, os, request) -> one shell command.

Deterministic for a seed; stdlib only. Each example is a JSON line
  {"system": "shell=bash os=linux", "user": "<request>", "assistant": "<command>", "task": "<name>"}

  /usr/bin/python3 train/corpus.py --n 400000 --seed 1 --out out/corpus.jsonl
  /usr/bin/python3 train/corpus.py --n 200 --seed 99 --heldout   # a held-out split (other seed)
  /usr/bin/python3 train/corpus.py --stats                        # tasks and a few samples

Tasks live in tasks_*.py; gen_core.py holds the template and noise machinery, gen_pools.py the
slot-value pools.
"""

import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gen_core import Ctx, Slots, Val, expand_groups, render_request  # noqa: E402
import tasks_files  # noqa: E402
import tasks_fs  # noqa: E402
import tasks_text  # noqa: E402
import tasks_sys  # noqa: E402
import tasks_dev  # noqa: E402
import tasks_more  # noqa: E402

ALL_TASKS = tasks_files.TASKS + tasks_fs.TASKS + tasks_text.TASKS + tasks_sys.TASKS + tasks_dev.TASKS + tasks_more.TASKS

# (shell, os) mix: mostly linux+bash, with enough of the others to learn their differences.
CONTEXTS = [(("bash", "linux"), 62), (("zsh", "linux"), 6), (("zsh", "macos"), 12), (("bash", "macos"), 5),
            (("fish", "linux"), 6), (("fish", "macos"), 3), (("sh", "linux"), 6)]


ABSENT = {"dl": Val("", "."), "o": Val("", ""), "u": Val("", ""), "em": Val("", "")}


def pick_ctx(rng):
    total = sum(w for _, w in CONTEXTS)
    r = rng.random() * total
    for v, w in CONTEXTS:
        r -= w
        if r < 0:
            return Ctx(*v)
    return Ctx(*CONTEXTS[0][0])


def make_example(task, rng, ctx):
    vals = {k: sampler(rng) for k, sampler in task["slots"].items()}
    tpl = expand_groups(rng.choice(task["reqs"]), rng)
    for k in vals:  # optional slots the chosen wording leaves out take their neutral value
        if "{" + k + "}" not in tpl and k in ABSENT:
            vals[k] = ABSENT[k]
    cmd = task["cmd"](Slots(vals), ctx)
    if cmd is None:
        return None
    req = render_request(tpl, vals, rng, task.get("style", {}))
    if not req:
        return None
    return {"system": f"shell={ctx.shell} os={ctx.os}", "user": req, "assistant": cmd, "task": task["name"]}


def generate(n, seed):
    rng = random.Random(seed)
    weights = [t.get("weight", 1.0) for t in ALL_TASKS]
    out = []
    while len(out) < n:
        task = rng.choices(ALL_TASKS, weights)[0]
        ex = make_example(task, rng, pick_ctx(rng))
        if ex:
            out.append(ex)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=400000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="-")
    ap.add_argument("--stats", action="store_true")
    args = ap.parse_args()
    if args.stats:
        print(f"{len(ALL_TASKS)} tasks")
        rng = random.Random(args.seed)
        for t in ALL_TASKS:
            ex = None
            while ex is None:
                ex = make_example(t, rng, pick_ctx(rng))
            print(f"{t['name']:24s} [{ex['system']}] {ex['user']!r} -> {ex['assistant']}")
        return
    exs = generate(args.n, args.seed)
    f = sys.stdout if args.out == "-" else open(args.out, "w")
    for ex in exs:
        f.write(json.dumps(ex) + "\n")
    if f is not sys.stdout:
        f.close()
        print(f"wrote {len(exs)} examples to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
