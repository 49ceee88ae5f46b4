#!/usr/bin/python3
"""Check that pensieve's tokenizer (build/pensieve tokenize MODEL TEXT) gives the same ids as
train/bpe.py for a sample of corpus requests and commands, and that the GGUF chat template
renders the agreed prompt format.

  /usr/bin/python3 train/check_tokenizer.py models/pensieve-cmd.gguf [--n 200]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bpe  # noqa: E402
import corpus  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--pensieve", default=os.path.join(HERE, "..", "build", "pensieve"))
    ap.add_argument("--tokenizer", default=os.path.join(HERE, "tokenizer.json"))
    ap.add_argument("--n", type=int, default=200)
    args = ap.parse_args()
    tok = bpe.Tokenizer.load(args.tokenizer)
    texts = ["", " ", "a  b   c", "x\n\n  y\t\tz ", "it's they'll I'VE", "100M 1G 10k 2024-06-01", "naïve café ünïcode ✓ 日本",
             "find . -name '*.py' -mtime -1 | xargs grep -n \"TODO\" 2>&1 >> out.log", "  leading", "trailing  "]
    for ex in corpus.generate(args.n, 4242):
        texts += [ex["user"], ex["assistant"]]
    bad = 0
    with tempfile.NamedTemporaryFile("w+b", suffix=".txt") as f:
        for t in texts:
            f.seek(0)
            f.truncate()
            f.write(t.encode())
            f.flush()
            r = subprocess.run([args.pensieve, "tokenize", args.model, "--file", f.name], capture_output=True, text=True)
            got = [int(line.split()[0]) for line in r.stdout.splitlines() if line.strip() and line.split()[0].isdigit()]
            want = tok.encode(t)
            if got != want:
                bad += 1
                print(f"MISMATCH {t!r}: pensieve {got} python {want}")
    msgs = [{"role": "system", "content": "shell=zsh os=macos"}, {"role": "user", "content": "list files"}]
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(msgs, f)
        f.flush()
        r = subprocess.run([args.pensieve, "chat-template", args.model, "--messages", f.name, "--add-generation-prompt"],
                           capture_output=True, text=True)
    want = "<|system|>shell=zsh os=macos<|end|><|user|>list files<|end|><|assistant|>"
    if r.stdout.strip("\n") != want:
        bad += 1
        print(f"TEMPLATE MISMATCH: {r.stdout!r} != {want!r}")
    print(f"{len(texts) - bad}/{len(texts)} texts tokenized identically; template {'ok' if r.stdout.strip(chr(10)) == want else 'BAD'}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
