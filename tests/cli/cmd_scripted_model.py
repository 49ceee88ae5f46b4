#!/usr/bin/env python3
"""Write a tiny llama GGUF whose greedy output is a given text, whatever the prompt.

A real model file that the engine runs like any other (GPT-2 byte-level BPE vocabulary, one
transformer layer), with weights set by hand instead of trained, so that `pensieve cmd` can be
tested end to end with an answer chosen in advance (a command the validator blocks, an answer in
code fences, ...):

  * every attention and feed-forward weight is zero, so each position's hidden state is just its
    token's embedding and the next token depends on the current token only (a bigram table);
  * the embedding gives every token outside the answer the direction e0 and the k-th token of the
    answer the direction e(k+1); the output matrix maps e0 to the answer's first token, e(k+1) to
    its (k+1)-th token, and the direction after the last token to end-of-text.

So from any prompt the model writes the answer's tokens in order, then stops. The answer's
tokens must be distinct (a repeat would loop): the script refuses a text that needs a repeat.

Usage: cmd_scripted_model.py --out FILE.gguf --text 'rm -rf /' [--name NAME]
"""

import argparse
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("PENSIEVE_SHARED_DIR", os.path.join(HERE, "..", "..", "..", "shared")) + "/tools")
import gen_model as gm  # noqa: E402  (../shared/tools: the GGUF writing helpers and the GPT-2 vocabulary)


def byte_to_unicode():
    """GPT-2's byte-level alphabet: every byte as a printable character."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def segment(text, token_ids):
    """The text as vocabulary tokens, longest match first."""
    b2u = byte_to_unicode()
    s = "".join(b2u[b] for b in text.encode("utf-8"))
    out, i = [], 0
    while i < len(s):
        for j in range(len(s), i, -1):
            if s[i:j] in token_ids:
                out.append(token_ids[s[i:j]])
                i = j
                break
        else:
            raise SystemExit(f"no token for {s[i]!r}")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--text", required=True, help="what the model answers to any prompt")
    ap.add_argument("--name", default="scripted answer", help="general.name")
    args = ap.parse_args()

    sh = dict(gm.SHAPES["tiny-llama"])
    sh.update(n_embd=32, n_layer=1, n_head=2, n_head_kv=1, n_ff=32, n_ctx=2048)
    E, V = sh["n_embd"], sh["n_vocab"]
    vocab = gm.load_vocab(gm.default_vocab_path(), V)
    token_ids = {t: i for i, t in enumerate(vocab["tokens"][:vocab["n_base"]])}
    answer = segment(args.text, token_ids)
    if len(set(answer)) != len(answer) or vocab["eos"] in answer or len(answer) + 1 >= E:
        raise SystemExit(f"the answer's tokens must be distinct, without end-of-text, fewer than {E - 1}: {answer}")
    # The chat prompt (ChatML: "...<|im_start|>assistant\n") ends with a lone newline token: in the
    # answer it would make the model start there. "\n\n" is one other token and works.
    if token_ids["\u010a"] in answer:
        raise SystemExit("the answer may not contain a single newline token (the prompt ends with one); use \\n\\n")

    embd = np.zeros((V, E), np.float32)
    embd[:, 0] = 1.0
    out = np.zeros((V, E), np.float32)
    for k, tok in enumerate(answer):
        embd[tok] = 0.0
        embd[tok, k + 1] = 1.0
        out[tok, k] = 10.0  # state k (after k answer tokens) -> the k-th answer token
    out[vocab["eos"], len(answer)] = 10.0

    specs = gm.tensor_specs(sh, gm.GGML_F32)
    data = {}
    for s in specs:
        if s.name == "token_embd.weight":
            data[s.name] = embd
        elif s.name == "output.weight":
            data[s.name] = out
        elif s.kind == "norm":
            data[s.name] = np.ones(s.n_elem, np.float32)
        else:
            data[s.name] = np.zeros(s.n_elem, np.float32)
    kv = [(k, t, args.name if k == "general.name" else v)
          for k, t, v in gm.metadata("scripted", sh, vocab, "f32", 0, 0.0)]

    header = [gm.GGUF_MAGIC, struct.pack("<IQQ", gm.GGUF_VERSION, len(specs), len(kv))]
    for key, t, v in kv:
        header.append(gm._pack_string(key) + struct.pack("<I", t) + gm._pack_value(t, v))
    off = 0
    for s in specs:
        s.offset = off
        off += s.nbytes + gm._pad(s.nbytes)
        header.append(gm._pack_string(s.name) + struct.pack("<I", len(s.ne))
                      + struct.pack(f"<{len(s.ne)}Q", *s.ne) + struct.pack("<IQ", s.gtype, s.offset))
    header = b"".join(header)
    header += b"\0" * gm._pad(len(header))
    tmp = args.out + ".part"
    with open(tmp, "wb") as f:
        f.write(header)
        for s in specs:
            f.write(np.ascontiguousarray(data[s.name], dtype="<f4").tobytes())
            f.write(b"\0" * gm._pad(s.nbytes))
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
