#!/usr/bin/env python3
"""Train pensieve-cmd: corpus -> tokens -> llama decoder -> GGUF.

  python3 train/train.py --minutes 8 --out-dir $OUT            # the full run (one H200)
  /usr/bin/python3 train/train.py --tiny --minutes 1 --out-dir out/tiny   # CPU smoke test

Generates the corpus itself (train/corpus.py, in parallel, deterministic per seed), encodes it
with the committed tokenizer (train/tokenizer.json, made by train/bpe.py), trains with loss on
the assistant part only, time-budgeted with a cosine schedule that ends at the deadline, and
writes pensieve-cmd.gguf (Q8_0) plus a log of the loss curve, held-out loss, exact match and
sample generations.
"""

import argparse
import json
import math
import multiprocessing as mp
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import bpe  # noqa: E402
import corpus  # noqa: E402
from model import Config, Model, export_gguf, load_gguf_weights  # noqa: E402

NO_SYSTEM_FRACTION = 0.04  # a few prompts without the system turn: default to bash/linux behaviour
_TOK = None


def _init_worker(tok_path):
    global _TOK
    _TOK = bpe.Tokenizer.load(tok_path)


def encode_example(ex, with_system=True):
    t = _TOK
    sp = t.specials
    prompt = []
    if with_system:
        prompt += [sp["<|system|>"]] + t.encode(ex["system"]) + [sp["<|end|>"]]
    prompt += [sp["<|user|>"]] + t.encode(ex["user"]) + [sp["<|end|>"], sp["<|assistant|>"]]
    answer = t.encode(ex["assistant"]) + [sp["<|end|>"]]
    return prompt, answer


def _chunk(args):
    n, seed = args
    exs = corpus.generate(n, seed)
    rng = random.Random(seed * 7 + 1)
    out = []
    for ex in exs:
        p, a = encode_example(ex, with_system=rng.random() >= NO_SYSTEM_FRACTION)
        out.append((p, a))
    return out


def build_data(n, seed, tok_path, workers, chunk=20000):
    jobs = [(min(chunk, n - i), seed * 100003 + k) for k, i in enumerate(range(0, n, chunk))]
    with mp.Pool(workers, initializer=_init_worker, initargs=(tok_path,)) as pool:
        parts = pool.map(_chunk, jobs)
    return [x for p in parts for x in p]


def to_tensors(pairs, max_len, pad_id):
    import numpy as np
    keep = [(p, a) for p, a in pairs if len(p) + len(a) <= max_len + 1]
    X = np.full((len(keep), max_len), pad_id, dtype=np.int64)
    Y = np.full((len(keep), max_len), -100, dtype=np.int64)
    for i, (p, a) in enumerate(keep):
        seq = p + a
        n = len(seq) - 1
        X[i, :n] = seq[:-1]
        Y[i, len(p) - 1:n] = a  # loss only on the answer (and its <|end|>)
    return torch.from_numpy(X), torch.from_numpy(Y), len(pairs) - len(keep)


@torch.no_grad()
def greedy(model, prompt, end_id, max_new=64, device="cpu"):
    ids = list(prompt)
    for _ in range(max_new):
        x = torch.tensor([ids[-model.cfg.ctx:]], device=device)
        with torch.autocast(device_type=device if device != "cpu" else "cpu", dtype=torch.bfloat16, enabled=device != "cpu"):
            logits = model(x)
        nxt = int(logits[0, -1].float().argmax())
        if nxt == end_id:
            break
        ids.append(nxt)
    return ids[len(prompt):]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", default=os.path.join(HERE, "tokenizer.json"))
    ap.add_argument("--n", type=int, default=1_500_000, help="training examples to generate")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--minutes", type=float, default=8.0, help="training time budget (the schedule ends there)")
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--max-len", type=int, default=64)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--kv-heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=1536)
    ap.add_argument("--tiny", action="store_true", help="a small model and corpus for a CPU smoke test")
    ap.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--wtype", default="q8_0", choices=["q8_0", "f16"])
    ap.add_argument("--out-dir", default="out")
    ap.add_argument("--eval-n", type=int, default=200)
    ap.add_argument("--init", help="start from this pensieve-cmd GGUF (fine-tuning) instead of random weights")
    ap.add_argument("--warmup", type=int, default=200)
    args = ap.parse_args()
    if args.tiny:
        args.n, args.dim, args.layers, args.heads, args.kv_heads, args.ffn = 20000, 64, 2, 4, 2, 192
        args.batch, args.eval_n = 64, 20
    os.makedirs(args.out_dir, exist_ok=True)
    log_f = open(os.path.join(args.out_dir, "train_log.txt"), "w")

    def log(*a):
        s = " ".join(str(x) for x in a)
        print(s, flush=True)
        log_f.write(s + "\n")
        log_f.flush()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(args.seed)
    tok = bpe.Tokenizer.load(args.tokenizer)
    with open(args.tokenizer) as f:
        tok_data = json.load(f)
    end_id, pad_id = tok.specials["<|end|>"], tok.specials["<|pad|>"]

    t0 = time.time()
    train_pairs = build_data(args.n, args.seed, args.tokenizer, args.workers)
    held_pairs = build_data(2000 if device == "cuda" else 256, args.seed + 1000, args.tokenizer, args.workers)
    held_exs = corpus.generate(args.eval_n, args.seed + 2000)
    X, Y, dropped = to_tensors(train_pairs, args.max_len, pad_id)
    HX, HY, _ = to_tensors(held_pairs, args.max_len, pad_id)
    n_tok = sum(len(p) + len(a) for p, a in train_pairs)
    n_ans = sum(len(a) for p, a in train_pairs)
    log(f"data: {len(train_pairs)} examples ({dropped} over {args.max_len} tokens dropped), {n_tok} tokens "
        f"({n_ans} answer tokens), {len(corpus.ALL_TASKS)} tasks, built in {time.time() - t0:.1f}s")

    cfg = Config(vocab=len(tok_data["tokens"]), dim=args.dim, layers=args.layers, heads=args.heads,
                 kv_heads=args.kv_heads, ffn=args.ffn, ctx=256)
    model = Model(cfg)
    if args.init:
        load_gguf_weights(model, args.init)
        log(f"initialised from {args.init}")
    model = model.to(device)
    log(f"model: {model.n_params() / 1e6:.2f}M params, dim {cfg.dim}, layers {cfg.layers}, heads {cfg.heads}/{cfg.kv_heads}, "
        f"ffn {cfg.ffn}, vocab {cfg.vocab}, device {device}")
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), **({"fused": True} if device == "cuda" else {}))
    fwd = torch.compile(model) if args.compile else model
    X, Y = X.to(device), Y.to(device)
    HX, HY = HX.to(device), HY.to(device)
    amp = dict(device_type="cuda", dtype=torch.bfloat16) if device == "cuda" else dict(device_type="cpu", enabled=False)

    def held_loss():
        model.eval()
        tot, cnt = 0.0, 0
        with torch.no_grad(), torch.autocast(**amp):
            for i in range(0, len(HX), 256):
                lg = model(HX[i:i + 256])
                l = F.cross_entropy(lg.float().view(-1, cfg.vocab), HY[i:i + 256].view(-1), ignore_index=-100, reduction="sum")
                tot += float(l)
                cnt += int((HY[i:i + 256] != -100).sum())
        model.train()
        return tot / max(cnt, 1)

    budget = args.minutes * 60
    warmup = args.warmup
    step = 0
    t_start = time.time()
    g = torch.Generator(device="cpu").manual_seed(args.seed)
    perm = torch.randperm(len(X), generator=g)
    pos = 0
    epoch = 0
    smooth = None
    while True:
        el = time.time() - t_start
        if el >= budget:
            break
        frac = el / budget
        lr = args.lr * min(1.0, (step + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        for grp in opt.param_groups:
            grp["lr"] = lr
        if pos + args.batch > len(perm):
            perm = torch.randperm(len(X), generator=g)
            pos = 0
            epoch += 1
        idx = perm[pos:pos + args.batch].to(device)
        pos += args.batch
        xb, yb = X[idx], Y[idx]
        try:
            with torch.autocast(**amp):
                logits = fwd(xb)
        except Exception as e:  # torch.compile trouble: carry on eager rather than lose the run
            if fwd is model:
                raise
            log(f"compile failed ({type(e).__name__}: {e}); continuing eager")
            fwd = model
            with torch.autocast(**amp):
                logits = fwd(xb)
        loss = F.cross_entropy(logits.float().view(-1, cfg.vocab), yb.view(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        lv = float(loss) if step % 50 == 0 or step < 5 else None
        if lv is not None:
            smooth = lv if smooth is None else 0.9 * smooth + 0.1 * lv
        if step % 500 == 0 or step in (1, 10, 100):
            log(f"step {step} epoch {epoch} t {el:.0f}s lr {lr:.2e} loss {float(loss):.4f} held {held_loss():.4f}")
    train_time = time.time() - t_start
    final_held = held_loss()
    log(f"done: {step} steps, {epoch} epochs + {pos}/{len(X)}, {train_time:.0f}s, last loss {float(loss):.4f}, "
        f"held-out loss {final_held:.4f}, {step * args.batch / train_time:.0f} examples/s")

    # exact match on freshly generated held-out requests (another seed)
    model.eval()
    _init_worker(args.tokenizer)
    exact = 0
    for i, ex in enumerate(held_exs):
        p, _ = encode_example(ex)
        out = tok.decode(greedy(model, p, end_id, device=device))
        ok = out == ex["assistant"]
        exact += ok
        if i < 30 or (not ok and i < 100):
            log(f"  [{'ok' if ok else 'XX'}] [{ex['system']}] {ex['user']!r} -> {out!r}" + ("" if ok else f"  (want {ex['assistant']!r})"))
    log(f"exact match: {exact}/{len(held_exs)} = {exact / max(1, len(held_exs)):.3f}")
    hand = ["list all files bigger than 100 MB in my home", "find all python files changed in the last day",
            "show disk usage of each folder here sorted", "kill the process listening on port 8080",
            "replace foo with bar in config.yaml", "how many lines are in data.csv",
            "undo my last git commit but keep the changes", "show the last 50 lines of /var/log/syslog and keep following it",
            "compress the logs folder into logs.tar.gz", "which process is using the most memory"]
    for sysmsg in ("shell=bash os=linux", "shell=zsh os=macos", "shell=fish os=linux"):
        for h in hand[:10 if sysmsg.endswith("linux") and "bash" in sysmsg else 4]:
            p, _ = encode_example({"system": sysmsg, "user": h, "assistant": ""})
            log(f"  [{sysmsg}] {h!r} -> {tok.decode(greedy(model, p, end_id, device=device))!r}")
    path = os.path.join(args.out_dir, "pensieve-cmd.gguf")
    size = export_gguf(model, tok_data, path, wtype=args.wtype)
    log(f"wrote {path} ({size / 1e6:.1f} MB, {args.wtype})")
    json.dump({"steps": step, "train_time_s": train_time, "held_loss": final_held, "last_loss": float(loss),
               "exact": exact, "eval_n": len(held_exs), "examples": len(train_pairs), "tokens": n_tok,
               "answer_tokens": n_ans, "params": model.n_params()},
              open(os.path.join(args.out_dir, "summary.json"), "w"))


if __name__ == "__main__":
    main()
