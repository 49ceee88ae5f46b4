"""The pensieve-cmd decoder (PyTorch): llama architecture -- RMSNorm, RoPE, GQA attention, SwiGLU,
tied embeddings -- and its GGUF export.

RoPE rotates adjacent pairs (x[2i], x[2i+1]), which is how GGUF "llama" checkpoints are laid out
(pensieve's RopeStyle::normal), so q/k weights are exported as they are, with no permutation.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

import gguf_writer as G

CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'system' -%}<|system|>{{ message['content'] }}<|end|>"
    "{%- elif message['role'] == 'user' -%}<|user|>{{ message['content'] }}<|end|>"
    "{%- elif message['role'] == 'assistant' -%}<|assistant|>{{ message['content'] }}<|end|>"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}<|assistant|>{%- endif -%}"
)


class Config:
    def __init__(self, vocab=3072, dim=512, layers=8, heads=8, kv_heads=4, ffn=1536, ctx=256,
                 rope_base=10000.0, eps=1e-5):
        self.vocab, self.dim, self.layers, self.heads, self.kv_heads = vocab, dim, layers, heads, kv_heads
        self.ffn, self.ctx, self.rope_base, self.eps = ffn, ctx, rope_base, eps
        self.head_dim = dim // heads


def rope_tables(cfg, device):
    half = cfg.head_dim // 2
    inv = 1.0 / (cfg.rope_base ** (torch.arange(half, dtype=torch.float32, device=device) * 2 / cfg.head_dim))
    t = torch.arange(cfg.ctx, dtype=torch.float32, device=device)
    ang = torch.outer(t, inv)  # [ctx, half]
    return torch.cos(ang), torch.sin(ang)


def apply_rope(x, cos, sin):
    # x: [B, H, T, D]; pairs (2i, 2i+1)
    T = x.shape[2]
    c, s = cos[:T][None, None], sin[:T][None, None]
    x = x.float()
    a, b = x[..., 0::2], x[..., 1::2]
    ra = a * c - b * s
    rb = a * s + b * c
    return torch.stack((ra, rb), dim=-1).flatten(-2)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).type_as(x) * self.weight


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        hd = cfg.head_dim
        self.attn_norm = RMSNorm(cfg.dim, cfg.eps)
        self.wq = nn.Linear(cfg.dim, cfg.heads * hd, bias=False)
        self.wk = nn.Linear(cfg.dim, cfg.kv_heads * hd, bias=False)
        self.wv = nn.Linear(cfg.dim, cfg.kv_heads * hd, bias=False)
        self.wo = nn.Linear(cfg.heads * hd, cfg.dim, bias=False)
        self.ffn_norm = RMSNorm(cfg.dim, cfg.eps)
        self.w_gate = nn.Linear(cfg.dim, cfg.ffn, bias=False)
        self.w_up = nn.Linear(cfg.dim, cfg.ffn, bias=False)
        self.w_down = nn.Linear(cfg.ffn, cfg.dim, bias=False)

    def forward(self, x, cos, sin):
        cfg = self.cfg
        B, T, _ = x.shape
        h = self.attn_norm(x)
        q = self.wq(h).view(B, T, cfg.heads, cfg.head_dim).transpose(1, 2)
        k = self.wk(h).view(B, T, cfg.kv_heads, cfg.head_dim).transpose(1, 2)
        v = self.wv(h).view(B, T, cfg.kv_heads, cfg.head_dim).transpose(1, 2)
        q = apply_rope(q, cos, sin).type_as(v)
        k = apply_rope(k, cos, sin).type_as(v)
        rep = cfg.heads // cfg.kv_heads
        if rep > 1:
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
        if hasattr(F, "scaled_dot_product_attention"):
            a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # torch < 2.0 (the CPU smoke test on Debian's torch)
            att = (q @ k.transpose(-2, -1)) / math.sqrt(cfg.head_dim)
            mask = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
            a = att.masked_fill(~mask, float("-inf")).softmax(-1) @ v
        x = x + self.wo(a.transpose(1, 2).reshape(B, T, cfg.heads * cfg.head_dim))
        h = self.ffn_norm(x)
        return x + self.w_down(F.silu(self.w_gate(h)) * self.w_up(h))


class Model(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab, cfg.dim)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.norm = RMSNorm(cfg.dim, cfg.eps)
        cos, sin = rope_tables(cfg, "cpu")
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.apply(self._init)
        for b in self.blocks:  # scaled init of the residual projections
            nn.init.normal_(b.wo.weight, std=0.02 / math.sqrt(2 * cfg.layers))
            nn.init.normal_(b.w_down.weight, std=0.02 / math.sqrt(2 * cfg.layers))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)

    def forward(self, idx):
        x = self.embed(idx)
        for b in self.blocks:
            x = b(x, self.cos, self.sin)
        return F.linear(self.norm(x), self.embed.weight)  # tied output

    def n_params(self):
        return sum(p.numel() for p in self.parameters())


def export_gguf(model, tok_data, path, wtype="q8_0", name="pensieve-cmd"):
    cfg = model.cfg
    sd = {k: v.detach().float().cpu().numpy() for k, v in model.state_dict().items()}
    W = G.GGML_Q8_0 if wtype == "q8_0" else G.GGML_F16
    tensors = [("token_embd.weight", sd["embed.weight"], W)]
    for i in range(cfg.layers):
        p = f"blocks.{i}."
        g = f"blk.{i}."
        tensors += [
            (g + "attn_norm.weight", sd[p + "attn_norm.weight"], G.GGML_F32),
            (g + "attn_q.weight", sd[p + "wq.weight"], W),
            (g + "attn_k.weight", sd[p + "wk.weight"], W),
            (g + "attn_v.weight", sd[p + "wv.weight"], W),
            (g + "attn_output.weight", sd[p + "wo.weight"], W),
            (g + "ffn_norm.weight", sd[p + "ffn_norm.weight"], G.GGML_F32),
            (g + "ffn_gate.weight", sd[p + "w_gate.weight"], W),
            (g + "ffn_up.weight", sd[p + "w_up.weight"], W),
            (g + "ffn_down.weight", sd[p + "w_down.weight"], W),
        ]
    tensors.append(("output_norm.weight", sd["norm.weight"], G.GGML_F32))
    tokens = tok_data["tokens"]
    specials = set(tok_data["specials"])
    ttypes = [3 if t in specials else 1 for t in tokens]  # 3 = CONTROL, 1 = NORMAL
    end_id = tokens.index("<|end|>")
    pad_id = tokens.index("<|pad|>")
    a = "llama"
    kv = [
        ("general.architecture", G.T_STRING, a),
        ("general.name", G.T_STRING, name),
        ("general.alignment", G.T_UINT32, G.ALIGN),
        ("general.file_type", G.T_UINT32, G.FILE_TYPE[wtype]),
        (f"{a}.context_length", G.T_UINT32, cfg.ctx),
        (f"{a}.embedding_length", G.T_UINT32, cfg.dim),
        (f"{a}.block_count", G.T_UINT32, cfg.layers),
        (f"{a}.feed_forward_length", G.T_UINT32, cfg.ffn),
        (f"{a}.attention.head_count", G.T_UINT32, cfg.heads),
        (f"{a}.attention.head_count_kv", G.T_UINT32, cfg.kv_heads),
        (f"{a}.attention.layer_norm_rms_epsilon", G.T_FLOAT32, cfg.eps),
        (f"{a}.rope.freq_base", G.T_FLOAT32, cfg.rope_base),
        (f"{a}.rope.dimension_count", G.T_UINT32, cfg.head_dim),
        (f"{a}.vocab_size", G.T_UINT32, cfg.vocab),
        ("tokenizer.ggml.model", G.T_STRING, "gpt2"),
        ("tokenizer.ggml.pre", G.T_STRING, tok_data["pre"]),
        ("tokenizer.ggml.tokens", G.T_ARRAY, (G.T_STRING, tokens)),
        ("tokenizer.ggml.token_type", G.T_ARRAY, (G.T_INT32, ttypes)),
        ("tokenizer.ggml.merges", G.T_ARRAY, (G.T_STRING, tok_data["merges"])),
        ("tokenizer.ggml.bos_token_id", G.T_UINT32, end_id),
        ("tokenizer.ggml.eos_token_id", G.T_UINT32, end_id),
        ("tokenizer.ggml.eot_token_id", G.T_UINT32, end_id),
        ("tokenizer.ggml.padding_token_id", G.T_UINT32, pad_id),
        ("tokenizer.ggml.add_bos_token", G.T_BOOL, False),
        ("tokenizer.ggml.add_eos_token", G.T_BOOL, False),
        ("tokenizer.chat_template", G.T_STRING, CHAT_TEMPLATE),
    ]
    return G.write_gguf(path, kv, tensors)


def load_gguf_weights(model, path):
    """Initialise `model` from a pensieve-cmd GGUF (fine-tuning; Q8_0 weights are dequantized)."""
    t = G.read_gguf_tensors(path)
    cfg = model.cfg
    sd = {"embed.weight": t["token_embd.weight"], "norm.weight": t["output_norm.weight"]}
    names = {"attn_norm": "attn_norm", "attn_q": "wq", "attn_k": "wk", "attn_v": "wv", "attn_output": "wo",
             "ffn_norm": "ffn_norm", "ffn_gate": "w_gate", "ffn_up": "w_up", "ffn_down": "w_down"}
    for i in range(cfg.layers):
        for g, p in names.items():
            sd[f"blocks.{i}.{p}.weight"] = t[f"blk.{i}.{g}.weight"]
    state = {k: torch.from_numpy(v) for k, v in sd.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or any(not k.endswith(("cos", "sin")) for k in missing):
        raise ValueError(f"{path}: missing {missing}, unexpected {unexpected}")
