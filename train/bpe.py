#!/usr/bin/python3
"""Byte-level BPE for pensieve-cmd (stdlib only): train, save, load, encode.

The pre-tokenizer is the "qwen2" one pensieve implements (src/text/tok_pretokenize.cpp), written
out by hand because Python's `re` has no \\p{L}: contractions, an optional non-letter followed by
letters, single digits, punctuation runs, newlines, whitespace. Token pieces use the GPT-2
byte->unicode mapping, so the vocabulary drops straight into a GGUF ("gpt2" model, pre "qwen2").

  /usr/bin/python3 train/bpe.py --corpus out/corpus.jsonl --vocab-size 3072 --out train/tokenizer.json
"""

import argparse
import collections
import json
import sys
import unicodedata

PRE = "qwen2"
SPECIALS = ["<|end|>", "<|system|>", "<|user|>", "<|assistant|>", "<|pad|>"]
CONTRACTIONS = ("s", "t", "re", "ve", "m", "ll", "d")


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_TO_UNI = bytes_to_unicode()
UNI_TO_BYTE = {v: k for k, v in BYTE_TO_UNI.items()}


def is_letter(c):
    if c.isascii():
        return c.isalpha()
    return unicodedata.category(c)[0] == "L"


def is_number(c):
    if c.isascii():
        return c.isdigit()
    return unicodedata.category(c)[0] == "N"


def is_space(c):
    return c in " \t\n\r\x0b\x0c\x85\u2028\u2029" or (not c.isascii() and unicodedata.category(c) == "Zs")


def pretokenize(text):
    """Split like the qwen2 regex:
    (?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}
    | ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        # contractions
        if c == "'" and i + 1 < n:
            low = text[i + 1:i + 3].lower()
            hit = None
            for k in ("re", "ve", "ll"):
                if low == k:
                    hit = 3
            if hit is None and text[i + 1].lower() in ("s", "t", "m", "d"):
                hit = 2
            if hit:
                out.append(text[i:i + hit])
                i += hit
                continue
        # [^\r\n\p{L}\p{N}]?\p{L}+
        j = i
        if not is_letter(c) and c not in "\r\n" and not is_number(c) and i + 1 < n and is_letter(text[i + 1]):
            j = i + 1
        if is_letter(text[j]):
            k = j
            while k < n and is_letter(text[k]):
                k += 1
            out.append(text[i:k])
            i = k
            continue
        # \p{N}
        if is_number(c):
            out.append(c)
            i += 1
            continue
        # ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        j = i + 1 if c == " " else i

        def punct(ch):
            return not is_space(ch) and not is_letter(ch) and not is_number(ch)

        if j < n and punct(text[j]):
            k = j
            while k < n and punct(text[k]):
                k += 1
            while k < n and text[k] in "\r\n":
                k += 1
            out.append(text[i:k])
            i = k
            continue
        # whitespace forms
        if is_space(c):
            k = i
            while k < n and is_space(text[k]):
                k += 1
            last_nl = -1
            for m in range(i, k):
                if text[m] in "\r\n":
                    last_nl = m
            if last_nl >= 0:  # \s*[\r\n]+
                out.append(text[i:last_nl + 1])
                i = last_nl + 1
                continue
            if k == n:  # \s+(?!\S) at end
                out.append(text[i:k])
                i = k
                continue
            if k - i >= 2:  # \s+(?!\S): leave one space for the next piece
                out.append(text[i:k - 1])
                i = k - 1
                continue
            out.append(text[i:k])  # \s+
            i = k
            continue
        out.append(c)  # unreachable for valid text; keep the character
        i += 1
    return out


def to_units(piece):
    return "".join(BYTE_TO_UNI[b] for b in piece.encode("utf-8"))


def train(texts, vocab_size, log=sys.stderr):
    counts = collections.Counter()
    for t in texts:
        for p in pretokenize(t):
            counts[to_units(p)] += 1
    words = [list(w) for w in counts]
    freqs = list(counts.values())
    base = [BYTE_TO_UNI[b] for b in range(256)]
    n_merges = vocab_size - len(base) - len(SPECIALS)
    pair_counts = collections.Counter()
    where = collections.defaultdict(set)
    for wi, w in enumerate(words):
        for a, b in zip(w, w[1:]):
            pair_counts[(a, b)] += freqs[wi]
            where[(a, b)].add(wi)
    merges = []
    for step in range(n_merges):
        if not pair_counts:
            break
        best = max(pair_counts.items(), key=lambda kv: (kv[1], kv[0]))[0]
        if pair_counts[best] < 2:
            break
        merges.append(best)
        a, b = best
        ab = a + b
        for wi in list(where[best]):
            w = words[wi]
            f = freqs[wi]
            for x, y in zip(w, w[1:]):
                pair_counts[(x, y)] -= f
                if pair_counts[(x, y)] <= 0:
                    del pair_counts[(x, y)]
            nw = []
            i = 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    nw.append(ab)
                    i += 2
                else:
                    nw.append(w[i])
                    i += 1
            words[wi] = nw
            for x, y in zip(nw, nw[1:]):
                pair_counts[(x, y)] += f
                where[(x, y)].add(wi)
        where.pop(best, None)
        if log and step % 500 == 0:
            print(f"  merge {step}/{n_merges}: {ab!r}", file=log)
    tokens = base + [a + b for a, b in merges]
    # a merge result can repeat an existing token only if the same string was built twice; keep first
    seen = set()
    uniq = []
    for t in tokens:
        if t not in seen:
            seen.add(t)
            uniq.append(t)
    return {"pre": PRE, "tokens": uniq + SPECIALS, "merges": [f"{a} {b}" for a, b in merges], "specials": SPECIALS}


class Tokenizer:
    def __init__(self, data):
        self.tokens = data["tokens"]
        self.ids = {t: i for i, t in enumerate(self.tokens)}
        self.ranks = {tuple(m.split(" ", 1)): r for r, m in enumerate(data["merges"])}
        self.specials = {s: self.ids[s] for s in data["specials"]}
        self.cache = {}

    @classmethod
    def load(cls, path):
        with open(path) as f:
            return cls(json.load(f))

    def _bpe(self, units):
        w = list(units)
        while len(w) > 1:
            best, best_rank = None, None
            for i in range(len(w) - 1):
                r = self.ranks.get((w[i], w[i + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = i, r
            if best is None:
                break
            w[best:best + 2] = [w[best] + w[best + 1]]
        return [self.ids[t] for t in w]

    def encode(self, text):
        """Plain text (no special-token parsing)."""
        out = []
        for p in pretokenize(text):
            ids = self.cache.get(p)
            if ids is None:
                ids = self._bpe(to_units(p))
                if len(self.cache) < 2_000_000:
                    self.cache[p] = ids
            out.extend(ids)
        return out

    def decode(self, ids):
        b = bytearray()
        for i in ids:
            t = self.tokens[i]
            if t in self.specials:
                b += t.encode()
            else:
                b += bytes(UNI_TO_BYTE[ch] for ch in t)
        return b.decode("utf-8", errors="replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True, help="corpus JSONL (corpus.py output)")
    ap.add_argument("--vocab-size", type=int, default=3072)
    ap.add_argument("--max-examples", type=int, default=200000)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    texts = []
    with open(args.corpus) as f:
        for i, line in enumerate(f):
            if i >= args.max_examples:
                break
            ex = json.loads(line)
            texts += [ex["system"], ex["user"], ex["assistant"]]
    data = train(texts, args.vocab_size)
    with open(args.out, "w") as f:
        json.dump(data, f, ensure_ascii=False)
    print(f"{len(data['tokens'])} tokens ({len(data['merges'])} merges) -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
