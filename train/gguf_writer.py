"""Minimal GGUF v3 writer (numpy) for the pensieve-cmd llama model: metadata, F32/F16/Q8_0 tensors.

Layout as src/gguf reads it: magic, version, tensor count, kv count, the kv pairs, the tensor
infos (name, dims in ggml order -- ne[0] is the row length --, type, offset), padding to
general.alignment, then the tensor data, each tensor's start aligned.
"""

import struct

import numpy as np

ALIGN = 32
T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, T_ARRAY = 4, 5, 6, 7, 8, 9
GGML_F32, GGML_F16, GGML_Q8_0 = 0, 1, 8
FILE_TYPE = {"f16": 1, "q8_0": 7}


def _str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _value(t, v):
    if t == T_STRING:
        return _str(v)
    if t == T_UINT32:
        return struct.pack("<I", v)
    if t == T_INT32:
        return struct.pack("<i", v)
    if t == T_FLOAT32:
        return struct.pack("<f", v)
    if t == T_BOOL:
        return struct.pack("<?", v)
    if t == T_ARRAY:
        et, vals = v
        head = struct.pack("<IQ", et, len(vals))
        if et == T_STRING:
            return head + b"".join(_str(s) for s in vals)
        if et == T_INT32:
            return head + np.asarray(vals, dtype="<i4").tobytes()
        raise ValueError(et)
    raise ValueError(t)


def quantize_q8_0(x):
    """Rows of float32 -> Q8_0 blocks (f16 scale + 32 int8), as ggml's quantize_row_q8_0."""
    x = np.ascontiguousarray(x, dtype=np.float32).reshape(-1, 32)
    amax = np.abs(x).max(axis=1)
    d = amax / 127.0
    inv = np.where(d > 0, 1.0 / np.where(d > 0, d, 1), 0.0)
    qs = np.clip(np.round(x * inv[:, None]), -127, 127).astype(np.int8)
    out = np.empty(x.shape[0], dtype=[("d", "<f2"), ("qs", "i1", (32,))])
    out["d"] = d.astype(np.float16)
    out["qs"] = qs
    return out.tobytes()


def tensor_bytes(arr, gtype):
    if gtype == GGML_F32:
        return np.ascontiguousarray(arr, dtype="<f4").tobytes()
    if gtype == GGML_F16:
        return np.ascontiguousarray(arr, dtype="<f2").tobytes()
    if gtype == GGML_Q8_0:
        return quantize_q8_0(arr)
    raise ValueError(gtype)


def write_gguf(path, kv, tensors):
    """kv: [(key, type, value)]; tensors: [(name, numpy array [rows, row_len] or [n], ggml type)]."""
    infos = []
    blobs = []
    off = 0
    for name, arr, gtype in tensors:
        ne = list(reversed(arr.shape))  # numpy [out, in] -> ggml ne = (in, out)
        if gtype == GGML_Q8_0 and ne[0] % 32:
            gtype = GGML_F16
        data = tensor_bytes(arr, gtype)
        infos.append(_str(name) + struct.pack("<I", len(ne)) + struct.pack(f"<{len(ne)}Q", *ne)
                     + struct.pack("<IQ", gtype, off))
        pad = (-len(data)) % ALIGN
        blobs.append(data + b"\0" * pad)
        off += len(data) + pad
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv))
    head += b"".join(_str(k) + struct.pack("<I", t) + _value(t, v) for k, t, v in kv)
    head += b"".join(infos)
    head += b"\0" * ((-len(head)) % ALIGN)
    with open(path, "wb") as f:
        f.write(head)
        for b in blobs:
            f.write(b)
    return len(head) + off


def read_gguf_tensors(path):
    """{name: float32 numpy array in numpy order [rows, row_len]} of an F32/F16/Q8_0 GGUF (fine-tuning
    from a shipped model)."""
    import mmap
    with open(path, "rb") as f:
        data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    pos = 0

    def take(n):
        nonlocal pos
        b = data[pos:pos + n]
        pos += n
        return b

    def u32():
        return struct.unpack("<I", take(4))[0]

    def u64():
        return struct.unpack("<Q", take(8))[0]

    def string():
        return take(u64()).decode("utf-8")

    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

    def skip_value(t):
        if t == T_STRING:
            string()
        elif t == T_ARRAY:
            et, n = u32(), u64()
            for _ in range(n):
                skip_value(et)
        else:
            take(sizes[t])

    if take(4) != b"GGUF":
        raise ValueError(f"{path}: not a GGUF file")
    u32()
    n_tensors, n_kv = u64(), u64()
    align = ALIGN
    for _ in range(n_kv):
        key, t = string(), u32()
        if key == "general.alignment":
            align = u32()
        else:
            skip_value(t)
    infos = []
    for _ in range(n_tensors):
        name = string()
        ne = [u64() for _ in range(u32())]
        infos.append((name, ne, u32(), u64()))
    start = (pos + align - 1) // align * align
    out = {}
    for name, ne, gtype, off in infos:
        n = 1
        for d in ne:
            n *= d
        shape = list(reversed(ne))
        if gtype == GGML_F32:
            arr = np.frombuffer(data, dtype="<f4", count=n, offset=start + off)
        elif gtype == GGML_F16:
            arr = np.frombuffer(data, dtype="<f2", count=n, offset=start + off).astype(np.float32)
        elif gtype == GGML_Q8_0:
            blocks = np.frombuffer(data, dtype=[("d", "<f2"), ("qs", "i1", (32,))], count=n // 32, offset=start + off)
            arr = (blocks["qs"].astype(np.float32) * blocks["d"].astype(np.float32)[:, None]).reshape(-1)
        else:
            raise ValueError(f"{name}: tensor type {gtype} not supported")
        out[name] = arr.reshape(shape).copy()
    return out
