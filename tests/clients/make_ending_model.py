#!/usr/bin/env python3
"""Copy a tied-embedding qwen2/llama GGUF into a model that ends its turns quickly.

A random-weight model almost never samples EOS (1 in ~50k per token), and Claude Code asks for
32000 output tokens, so a turn would run for minutes. This rewrites, in place in a copy:
  - every block's attn_output and ffn_down to zero, so the residual stream is the embedding;
  - every embedding row to the same constant vector, except EOS's, which is slightly larger;
  - output_norm to ones.
The final hidden state is then the same at every position, and EOS's logit is ln(4) above all
others: with Anthropic's default sampling (temperature 1, top-k 40) about 1 token in 10 is EOS,
so a turn ends after a few tokens of text. Usage: make_ending_model.py IN.gguf OUT.gguf
"""
import shutil
import struct
import sys

import numpy as np

SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
DTYPE = {0: np.float32, 1: np.float16}


def read_header(buf):
    pos = 0

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from(fmt, buf, pos)[0]
        pos += struct.calcsize(fmt)
        return v

    def string():
        nonlocal pos
        n = take("<Q")
        s = bytes(buf[pos:pos + n]).decode("utf-8", "replace")
        pos += n
        return s

    def value(t):
        if t == 8:
            return string()
        if t == 9:
            et, n = take("<I"), take("<Q")
            return [value(et) for _ in range(n)]
        return take(SCALAR[t])

    assert bytes(buf[:4]) == b"GGUF", "not a GGUF file"
    pos = 8
    n_tensors, n_kv = take("<Q"), take("<Q")
    meta = {}
    for _ in range(n_kv):
        key = string()
        meta[key] = value(take("<I"))
    tensors = {}
    for _ in range(n_tensors):
        name = string()
        ne = [take("<Q") for _ in range(take("<I"))]
        tensors[name] = (ne, take("<I"), take("<Q"))
    align = meta.get("general.alignment", 32)
    return meta, tensors, (pos + align - 1) // align * align


def main(src, dst):
    shutil.copyfile(src, dst)
    with open(dst, "r+b") as f:
        buf = np.memmap(f, dtype=np.uint8, mode="r+")
        meta, tensors, data = read_header(buf)
        assert "output.weight" not in tensors, "needs tied embeddings"

        def view(name):
            ne, t, off = tensors[name]
            n = int(np.prod(ne))
            return np.ndarray(shape=(n,), dtype=DTYPE[t], buffer=buf, offset=data + off).reshape(ne[::-1])

        for name in tensors:
            if name.endswith("attn_output.weight") or name.endswith("ffn_down.weight"):
                view(name)[...] = 0
        view("output_norm.weight")[...] = 1
        emb = view("token_embd.weight")  # [n_vocab, n_embd]
        n_embd = emb.shape[1]
        emb[...] = 0.01
        eos = meta["tokenizer.ggml.eos_token_id"]
        emb[eos, :] = 0.01 + np.log(4.0) / n_embd
        buf.flush()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
