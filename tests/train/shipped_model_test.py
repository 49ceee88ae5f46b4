#!/usr/bin/python3
"""The shipped models/pensieve-cmd.gguf against the scripts in train/ that made it, through the
real pensieve binary (PENSIEVE_BIN, default build/pensieve):
- pensieve's tokenizer gives the same ids as train/bpe.py, on corpus text and edge cases;
- the GGUF's chat template renders the agreed prompt format and names the model pensieve-cmd;
- the corpus generator is deterministic for a seed;
- greedy answers to held-out generated requests (a seed training never used) and a few
  hand-written ones match their reference commands (text equality, a stricter check than the
  execution-based tests/cmd_eval).
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "train"))

import bpe  # noqa: E402
import corpus  # noqa: E402

BIN = os.environ.get("PENSIEVE_BIN", os.path.join(ROOT, "build", "pensieve"))
MODEL = os.environ.get("PENSIEVE_CMD_MODEL", os.path.join(ROOT, "models", "pensieve-cmd.gguf"))


def pensieve(*args, stdin=None):
    r = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=60, input=stdin)
    if r.returncode != 0:
        raise AssertionError(f"pensieve {' '.join(args)} exited {r.returncode}: {r.stderr}")
    return r.stdout


def generate(system, user):
    return pensieve("run", "-m", MODEL, "--chat", "--system", system, "-p", user, "-n", "64", "--temp", "0", "-t", "2").strip()


class ShippedModel(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(BIN):
            raise AssertionError(f"{BIN} is missing: build the pensieve target first")
        cls.tok = bpe.Tokenizer.load(os.path.join(ROOT, "train", "tokenizer.json"))

    def test_metadata(self):
        info = pensieve("info", MODEL)
        self.assertIn("pensieve-cmd", info)
        self.assertIn("gpt2 (pre: qwen2)", info)
        self.assertLessEqual(os.path.getsize(MODEL), 40 * 1000 * 1000)

    def test_tokenizer_matches_training_tokenizer(self):
        texts = ["find . -name '*.py' -mtime -1 | xargs grep -n \"TODO\" 2>&1 >> out.log",
                 "it's   they'll\n\n\tI'VE  ", "naïve café ✓ 日本 100M 1G 2024-06-01", " ", "x"]
        texts += [t for ex in corpus.generate(15, 31337) for t in (ex["user"], ex["assistant"])]
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "text.txt")
            for t in texts:
                with open(path, "wb") as f:
                    f.write(t.encode())
                out = pensieve("tokenize", MODEL, "--file", path)
                got = [int(line.split()[0]) for line in out.splitlines() if line.split() and line.split()[0].isdigit()]
                self.assertEqual(got, self.tok.encode(t), t)

    def test_chat_template_renders_agreed_format(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump([{"role": "system", "content": "shell=fish os=macos"}, {"role": "user", "content": "list files"}], f)
            f.flush()
            out = pensieve("chat-template", MODEL, "--messages", f.name, "--add-generation-prompt")
        self.assertEqual(out.strip("\n"), "<|system|>shell=fish os=macos<|end|><|user|>list files<|end|><|assistant|>")

    def test_corpus_is_deterministic(self):
        self.assertEqual(corpus.generate(50, 5), corpus.generate(50, 5))
        self.assertNotEqual(corpus.generate(50, 5), corpus.generate(50, 6))

    def test_held_out_requests(self):
        exs = corpus.generate(30, 424242)
        ok = sum(generate(ex["system"], ex["user"]) == ex["assistant"] for ex in exs)
        self.assertGreaterEqual(ok, 26, f"only {ok}/30 held-out requests answered exactly")

    def test_hand_written_requests(self):
        cases = [("shell=bash os=linux", "find all python files changed in the last day", "find . -type f -name '*.py' -mtime -1"),
                 ("shell=bash os=linux", "make deploy.sh executable", "chmod +x deploy.sh"),
                 ("shell=bash os=linux", "how many lines does server.log have", "wc -l server.log"),
                 ("shell=zsh os=macos", "replace foo with bar in settings.ini", "sed -i '' 's/foo/bar/g' settings.ini"),
                 ("shell=fish os=linux", "stop all running docker containers", "docker stop (docker ps -q)")]
        for system, user, want in cases:
            self.assertEqual(generate(system, user), want, user)


if __name__ == "__main__":
    unittest.main()
