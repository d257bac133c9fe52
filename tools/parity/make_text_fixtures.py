#!/usr/bin/python3
"""Parity fixtures for tiny random-weight Qwen2 / Llama-3.1 checkpoints.

Writes, for each model in MODELS, a real Hugging Face model directory

    tests/JudgeHost.Tests/Fixtures/parity/<name>/
        config.json              as transformers (4.53-style PretrainedConfig.to_json_string) would save it
        generation_config.json
        model.safetensors        float32 weights, HF key names, lm_head.weight only when untied
        reference.safetensors    reference tensors (see below)
        reference.json           the integer data of reference.safetensors + metadata / sanity numbers

The reference forward is plain PyTorch written to follow transformers' eager code path line by line
(models/qwen2/modeling_qwen2.py, models/llama/modeling_llama.py, modeling_rope_utils.py):
  * RMSNorm: x.to(float32); var = x.pow(2).mean(-1, keepdim); x * rsqrt(var + eps); weight * x.to(input_dtype)
  * RoPE: inv_freq = 1 / theta ** (arange(0, d, 2, int64).float() / d) (float32), llama3 adjustment exactly as
    _compute_llama3_parameters (float32 tensor ops); freqs = inv_freq @ positions in float32,
    emb = cat(freqs, freqs); cos/sin in float32, then .to(activation dtype); rotate_half
  * GQA via repeat_kv (== repeat_interleave on the head dim); scores = q @ k^T * head_dim**-0.5 + additive mask
    (finfo(dtype).min); softmax(dim=-1, dtype=float32).to(q.dtype); @ v
  * SiLU-gated MLP, pre-norm residuals in the model dtype, final norm, lm_head (= embed_tokens when tied)

Run with Debian's python3-torch:   /usr/bin/python3 tools/parity/make_text_fixtures.py
Needs only torch (no transformers, no safetensors package: a tiny writer/reader lives in this file).
Deterministic: fixed seeds, single thread, CPU.
"""
import argparse
import itertools
import json
import math
import os
import struct
import sys

import torch
import torch.nn.functional as F

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_OUT = os.path.join(REPO_ROOT, "tests", "JudgeHost.Tests", "Fixtures", "parity")

# transformers version whose save format config.json / generation_config.json emulate
# (rope_theta + rope_scaling keys, "torch_dtype", Qwen2 "layer_types").
EMULATED_TRANSFORMERS_VERSION = "4.53.2"

PROMPT_LEN = 24
NEW_TOKENS = 64
BATCH_LENGTHS = [24, 17, 9]

# ----------------------------------------------------------------------------------------------------------------------
# Model definitions
# ----------------------------------------------------------------------------------------------------------------------

COMMON = dict(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
              num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512)

QWEN_TOKENS = dict(bos=250, eos=251, gen_eos=[251, 250], pad=250)          # like <|endoftext|> / <|im_end|>
LLAMA_TOKENS = dict(bos=248, eos=[249, 252, 253], gen_eos=[249, 252, 253], pad=255)  # like 3.1: no pad in config

MODELS = [
    # seeds picked (from a handful tried) so that the 64-token greedy continuation is varied (no long runs of one
    # token; tied random models tend to echo their input) and the top1-top2 margin along it is >= 1e-3
    dict(name="qwen2-tiny", arch="qwen2", tied=True, seed=1005),
    dict(name="qwen2-tiny-untied", arch="qwen2", tied=False, seed=1004),
    dict(name="llama31-tiny", arch="llama", tied=False, seed=2001),
    dict(name="llama31-tiny-tied", arch="llama", tied=True, seed=2011),
]


def make_config(m):
    c = COMMON
    if m["arch"] == "qwen2":
        t = QWEN_TOKENS
        return {
            "architectures": ["Qwen2ForCausalLM"],
            "attention_dropout": 0.0,
            "bos_token_id": t["bos"],
            "eos_token_id": t["eos"],
            "hidden_act": "silu",
            "hidden_size": c["hidden_size"],
            "initializer_range": 0.02,
            "intermediate_size": c["intermediate_size"],
            "layer_types": ["full_attention"] * c["num_hidden_layers"],
            "max_position_embeddings": c["max_position_embeddings"],
            "max_window_layers": c["num_hidden_layers"],
            "model_type": "qwen2",
            "num_attention_heads": c["num_attention_heads"],
            "num_hidden_layers": c["num_hidden_layers"],
            "num_key_value_heads": c["num_key_value_heads"],
            "rms_norm_eps": 1e-06,
            "rope_scaling": None,
            "rope_theta": 1000000.0,
            "sliding_window": None,  # Qwen2Config forces None when use_sliding_window is false
            "tie_word_embeddings": m["tied"],
            "torch_dtype": "float32",
            "transformers_version": EMULATED_TRANSFORMERS_VERSION,
            "use_cache": True,
            "use_sliding_window": False,
            "vocab_size": c["vocab_size"],
        }
    t = LLAMA_TOKENS
    return {
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": t["bos"],
        "eos_token_id": list(t["eos"]),
        "head_dim": c["hidden_size"] // c["num_attention_heads"],
        "hidden_act": "silu",
        "hidden_size": c["hidden_size"],
        "initializer_range": 0.02,
        "intermediate_size": c["intermediate_size"],
        "max_position_embeddings": c["max_position_embeddings"],
        "mlp_bias": False,
        "model_type": "llama",
        "num_attention_heads": c["num_attention_heads"],
        "num_hidden_layers": c["num_hidden_layers"],
        "num_key_value_heads": c["num_key_value_heads"],
        "pretraining_tp": 1,
        "rms_norm_eps": 1e-05,
        "rope_scaling": {
            "factor": 8.0,
            "high_freq_factor": 4.0,
            "low_freq_factor": 1.0,
            "original_max_position_embeddings": 64,
            "rope_type": "llama3",
        },
        "rope_theta": 500000.0,
        "tie_word_embeddings": m["tied"],
        "torch_dtype": "float32",
        "transformers_version": EMULATED_TRANSFORMERS_VERSION,
        "use_cache": True,
        "vocab_size": c["vocab_size"],
    }


def make_generation_config(m):
    if m["arch"] == "qwen2":
        t = QWEN_TOKENS
        return {"bos_token_id": t["bos"], "do_sample": False, "eos_token_id": list(t["gen_eos"]),
                "pad_token_id": t["pad"], "transformers_version": EMULATED_TRANSFORMERS_VERSION}
    t = LLAMA_TOKENS
    return {"bos_token_id": t["bos"], "do_sample": False, "eos_token_id": list(t["gen_eos"]),
            "transformers_version": EMULATED_TRANSFORMERS_VERSION}


def hf_json(obj):
    """PretrainedConfig.to_json_string / GenerationConfig.to_json_string: indent=2, sort_keys=True, trailing \\n."""
    return json.dumps(obj, indent=2, sort_keys=True) + "\n"


# ----------------------------------------------------------------------------------------------------------------------
# Weights
# ----------------------------------------------------------------------------------------------------------------------

def init_weights(m, cfg):
    g = torch.Generator().manual_seed(m["seed"])
    D, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    H, Hkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    d = D // H
    has_bias = m["arch"] == "qwen2"

    def normal(*shape, std):
        return (torch.randn(*shape, generator=g, dtype=torch.float32) * std).contiguous()

    def norm_w():
        return (1.0 + 0.1 * torch.randn(D, generator=g, dtype=torch.float32)).contiguous()

    w = {"model.embed_tokens.weight": normal(V, D, std=0.25)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        w[p + "input_layernorm.weight"] = norm_w()
        w[p + "self_attn.q_proj.weight"] = normal(H * d, D, std=0.15)
        w[p + "self_attn.k_proj.weight"] = normal(Hkv * d, D, std=0.15)
        w[p + "self_attn.v_proj.weight"] = normal(Hkv * d, D, std=0.15)
        if has_bias:
            w[p + "self_attn.q_proj.bias"] = normal(H * d, std=0.1)
            w[p + "self_attn.k_proj.bias"] = normal(Hkv * d, std=0.1)
            w[p + "self_attn.v_proj.bias"] = normal(Hkv * d, std=0.1)
        w[p + "self_attn.o_proj.weight"] = normal(D, H * d, std=0.15)
        w[p + "post_attention_layernorm.weight"] = norm_w()
        w[p + "mlp.gate_proj.weight"] = normal(I, D, std=0.15)
        w[p + "mlp.up_proj.weight"] = normal(I, D, std=0.15)
        w[p + "mlp.down_proj.weight"] = normal(D, I, std=0.15)
    w["model.norm.weight"] = norm_w()
    if not m["tied"]:
        w["lm_head.weight"] = normal(V, D, std=0.3)
    return w


# ----------------------------------------------------------------------------------------------------------------------
# Minimal safetensors writer / reader
# ----------------------------------------------------------------------------------------------------------------------

_ST_DTYPES = {torch.float32: ("F32", "<f4"), torch.int64: ("I64", "<i8"), torch.float64: ("F64", "<f8")}
_ST_FROM = {"F32": torch.float32, "I64": torch.int64, "F64": torch.float64}


def safetensors_bytes(tensors, metadata=None):
    names = sorted(tensors)
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for n in names:
        t = tensors[n].detach().cpu().contiguous()
        st_dtype, np_dtype = _ST_DTYPES[t.dtype]
        raw = t.numpy().astype(np_dtype, copy=False).tobytes(order="C")
        header[n] = {"dtype": st_dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((8 - len(hjson) % 8) % 8)
    return struct.pack("<Q", len(hjson)) + hjson + b"".join(blobs)


def write_safetensors(path, tensors, metadata=None):
    with open(path, "wb") as f:
        f.write(safetensors_bytes(tensors, metadata))


def read_safetensors(path):
    import numpy as np
    with open(path, "rb") as f:
        data = f.read()
    (hlen,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + hlen].decode("utf-8"))
    base = 8 + hlen
    out = {}
    for n, info in header.items():
        if n == "__metadata__":
            continue
        a, b = info["data_offsets"]
        dt = _ST_FROM[info["dtype"]]
        np_dtype = _ST_DTYPES[dt][1]
        arr = np.frombuffer(data[base + a:base + b], dtype=np_dtype).reshape(info["shape"])
        out[n] = torch.from_numpy(arr.copy()).to(dt)
    return out


# ----------------------------------------------------------------------------------------------------------------------
# Reference model (transformers eager path)
# ----------------------------------------------------------------------------------------------------------------------

def default_inv_freq(theta, dim, dtype):
    # 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    return 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.int64).to(dtype) / dim))


def llama3_inv_freq(theta, dim, rs, dtype):
    # _compute_llama3_parameters, same op order (tensor ops in `dtype`, python-float scalars)
    inv_freq = default_inv_freq(theta, dim, dtype)
    factor = rs["factor"]
    low_freq_factor = rs["low_freq_factor"]
    high_freq_factor = rs["high_freq_factor"]
    old_context_len = rs["original_max_position_embeddings"]
    low_freq_wavelen = old_context_len / low_freq_factor
    high_freq_wavelen = old_context_len / high_freq_factor
    wavelen = 2 * math.pi / inv_freq
    inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth_factor = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
    smoothed_inv_freq = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
    is_medium_freq = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
    inv_freq_llama = torch.where(is_medium_freq, smoothed_inv_freq, inv_freq_llama)
    return inv_freq_llama


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def repeat_kv(h, n_rep):
    b, nkv, slen, hd = h.shape
    if n_rep == 1:
        return h
    h = h[:, :, None, :, :].expand(b, nkv, n_rep, slen, hd)
    return h.reshape(b, nkv * n_rep, slen, hd)


class RefModel:
    """dtype: float32 (HF fp32), bfloat16 (HF model in bf16), float64 (high-precision sanity variant).

    For float32/bfloat16 the internal upcasts are float32 exactly as in transformers. For the float64 sanity variant
    every internal computation (RMSNorm, RoPE tables, softmax) is float64 instead (HF would downcast these to fp32)."""

    def __init__(self, cfg, weights, dtype):
        self.cfg = cfg
        self.dtype = dtype
        self.acc = torch.float64 if dtype == torch.float64 else torch.float32  # "float32" of the HF code
        self.w = {k: v.to(dtype) for k, v in weights.items()}
        if cfg["tie_word_embeddings"]:
            assert "lm_head.weight" not in self.w
            self.lm_head = self.w["model.embed_tokens.weight"]
        else:
            self.lm_head = self.w["lm_head.weight"]
        self.D = cfg["hidden_size"]
        self.H = cfg["num_attention_heads"]
        self.Hkv = cfg["num_key_value_heads"]
        self.d = cfg.get("head_dim") or self.D // self.H
        self.eps = cfg["rms_norm_eps"]
        self.L = cfg["num_hidden_layers"]
        rs = cfg.get("rope_scaling")
        # inv_freq is a float32 buffer computed at init (from_pretrained(torch_dtype=bf16) keeps it float32)
        if rs is not None and rs.get("rope_type", rs.get("type")) == "llama3":
            self.inv_freq = llama3_inv_freq(cfg["rope_theta"], self.d, rs, self.acc)
        else:
            self.inv_freq = default_inv_freq(cfg["rope_theta"], self.d, self.acc)
        self.attention_scaling = 1.0

    def rms_norm(self, x, weight):
        input_dtype = x.dtype
        h = x.to(self.acc)
        variance = h.pow(2).mean(-1, keepdim=True)
        h = h * torch.rsqrt(variance + self.eps)
        return weight * h.to(input_dtype)

    def rope(self, position_ids):
        # Qwen2RotaryEmbedding.forward / LlamaRotaryEmbedding.forward
        inv_freq_expanded = self.inv_freq[None, :, None].to(self.acc).expand(position_ids.shape[0], -1, 1)
        position_ids_expanded = position_ids[:, None, :].to(self.acc)
        freqs = (inv_freq_expanded @ position_ids_expanded).transpose(1, 2)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos = emb.cos() * self.attention_scaling
        sin = emb.sin() * self.attention_scaling
        return cos.to(self.dtype), sin.to(self.dtype)

    def linear(self, x, name, bias=True):
        b = self.w.get(name + ".bias") if bias else None
        return F.linear(x, self.w[name + ".weight"], b)

    def forward(self, input_ids, position_ids=None, attention_mask=None, cache=None):
        """input_ids [B,S] int64. attention_mask: optional [B, P+S] 0/1 (2-D HF mask incl. cached slots).
        cache: list of (k, v) per layer ([B,Hkv,P,d]) or None. Returns (logits [B,S,V] in model dtype, new cache)."""
        B, S = input_ids.shape
        P = 0 if cache is None else cache[0][0].shape[2]
        Ltot = P + S
        if position_ids is None:
            position_ids = torch.arange(P, P + S, dtype=torch.int64)[None].expand(B, S)
        x = F.embedding(input_ids, self.w["model.embed_tokens.weight"])
        cos, sin = self.rope(position_ids)
        cos_u, sin_u = cos.unsqueeze(1), sin.unsqueeze(1)

        # additive mask [B,1,S,Ltot]: causal on absolute cache positions AND 2-D padding mask
        q_pos = torch.arange(P, P + S)[:, None]
        k_pos = torch.arange(Ltot)[None, :]
        allowed = (k_pos <= q_pos)[None, None].expand(B, 1, S, Ltot)
        if attention_mask is not None:
            allowed = allowed & attention_mask[:, None, None, :].to(torch.bool)
        min_val = torch.finfo(self.dtype).min
        mask = torch.zeros(B, 1, S, Ltot, dtype=self.dtype).masked_fill(~allowed, min_val)

        new_cache = []
        n_rep = self.H // self.Hkv
        scaling = self.d ** -0.5
        for i in range(self.L):
            p = f"model.layers.{i}."
            residual = x
            h = self.rms_norm(x, self.w[p + "input_layernorm.weight"])
            q = self.linear(h, p + "self_attn.q_proj").view(B, S, -1, self.d).transpose(1, 2)
            k = self.linear(h, p + "self_attn.k_proj").view(B, S, -1, self.d).transpose(1, 2)
            v = self.linear(h, p + "self_attn.v_proj").view(B, S, -1, self.d).transpose(1, 2)
            q = (q * cos_u) + (rotate_half(q) * sin_u)
            k = (k * cos_u) + (rotate_half(k) * sin_u)
            if cache is not None:
                k = torch.cat([cache[i][0], k], dim=2)
                v = torch.cat([cache[i][1], v], dim=2)
            new_cache.append((k, v))
            ks, vs = repeat_kv(k, n_rep), repeat_kv(v, n_rep)
            attn = torch.matmul(q, ks.transpose(2, 3)) * scaling
            attn = attn + mask
            attn = F.softmax(attn, dim=-1, dtype=self.acc).to(q.dtype)
            a = torch.matmul(attn, vs).transpose(1, 2).contiguous().reshape(B, S, -1)
            a = self.linear(a, p + "self_attn.o_proj")
            x = residual + a
            residual = x
            h = self.rms_norm(x, self.w[p + "post_attention_layernorm.weight"])
            gate = self.linear(h, p + "mlp.gate_proj")
            up = self.linear(h, p + "mlp.up_proj")
            mlp = F.linear(F.silu(gate) * up, self.w[p + "mlp.down_proj.weight"], self.w.get(p + "mlp.down_proj.bias"))
            x = residual + mlp
        x = self.rms_norm(x, self.w["model.norm.weight"])
        logits = F.linear(x, self.lm_head)
        return logits, new_cache


def independent_numpy_logits(cfg, weights, ids):
    """Second, independently written float64 forward (numpy, explicit loops over positions and heads, RoPE as a
    rotation of the pairs (j, j + d/2), llama3 bands from the formula in the Llama 3.1 paper / Meta's reference code).
    Used only as a cross-check of RefModel(float64)."""
    import numpy as np
    W = {k: v.double().numpy() for k, v in weights.items()}
    D, H, Hkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    d = cfg.get("head_dim") or D // H
    eps = cfg["rms_norm_eps"]
    theta = cfg["rope_theta"]
    freqs = np.array([theta ** (-(2.0 * j) / d) for j in range(d // 2)])
    rs = cfg.get("rope_scaling")
    if rs is not None:
        old = rs["original_max_position_embeddings"]
        lo_wl, hi_wl = old / rs["low_freq_factor"], old / rs["high_freq_factor"]
        out = []
        for f in freqs:
            wl = 2 * math.pi / f
            if wl < hi_wl:
                out.append(f)
            elif wl > lo_wl:
                out.append(f / rs["factor"])
            else:
                s = (old / wl - rs["low_freq_factor"]) / (rs["high_freq_factor"] - rs["low_freq_factor"])
                out.append((1 - s) * f / rs["factor"] + s * f)
        freqs = np.array(out)

    def norm(x, w):
        return w * (x / np.sqrt(np.mean(x * x) + eps))

    def lin(x, name):
        y = W[name + ".weight"] @ x
        return y + W[name + ".bias"] if name + ".bias" in W else y

    def rot(vec, pos):
        out = vec.copy()
        for j in range(d // 2):
            c, s = math.cos(pos * freqs[j]), math.sin(pos * freqs[j])
            a, b = vec[j], vec[j + d // 2]
            out[j], out[j + d // 2] = a * c - b * s, b * c + a * s
        return out

    T = len(ids)
    xs = [W["model.embed_tokens.weight"][t].copy() for t in ids]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        hs = [norm(x, W[p + "input_layernorm.weight"]) for x in xs]
        qs = [lin(h, p + "self_attn.q_proj").reshape(H, d) for h in hs]
        ks = [lin(h, p + "self_attn.k_proj").reshape(Hkv, d) for h in hs]
        vs = [lin(h, p + "self_attn.v_proj").reshape(Hkv, d) for h in hs]
        qs = [np.stack([rot(q[hh], t) for hh in range(H)]) for t, q in enumerate(qs)]
        ks = [np.stack([rot(k[hh], t) for hh in range(Hkv)]) for t, k in enumerate(ks)]
        new = []
        for t in range(T):
            heads = []
            for hh in range(H):
                kv = hh // (H // Hkv)
                sc = np.array([qs[t][hh] @ ks[u][kv] / math.sqrt(d) for u in range(t + 1)])
                pr = np.exp(sc - sc.max())
                pr /= pr.sum()
                heads.append(sum(pr[u] * vs[u][kv] for u in range(t + 1)))
            x = xs[t] + lin(np.concatenate(heads), p + "self_attn.o_proj")
            h = norm(x, W[p + "post_attention_layernorm.weight"])
            g_ = lin(h, p + "mlp.gate_proj")
            u_ = lin(h, p + "mlp.up_proj")
            new.append(x + lin(g_ / (1 + np.exp(-g_)) * u_, p + "mlp.down_proj"))
        xs = new
    head = W["lm_head.weight"] if "lm_head.weight" in W else W["model.embed_tokens.weight"]
    return torch.from_numpy(np.stack([head @ norm(x, W["model.norm.weight"]) for x in xs]))


# ----------------------------------------------------------------------------------------------------------------------
# Fixture generation
# ----------------------------------------------------------------------------------------------------------------------

def greedy_with_cache(model, prompt, n):
    logits, cache = model.forward(prompt[None])
    ids, step_logits = [], []
    last = logits[0, -1]
    for _ in range(n):
        step_logits.append(last)
        nxt = int(torch.argmax(last))
        ids.append(nxt)
        logits, cache = model.forward(torch.tensor([[nxt]], dtype=torch.int64), cache=cache)
        last = logits[0, -1]
    return ids, torch.stack(step_logits)


def greedy_full_recompute(model, prompt, n):
    seq = prompt.tolist()
    ids, step_logits = [], []
    for _ in range(n):
        logits, _ = model.forward(torch.tensor([seq], dtype=torch.int64))
        last = logits[0, -1]
        step_logits.append(last)
        nxt = int(torch.argmax(last))
        ids.append(nxt)
        seq.append(nxt)
    return ids, torch.stack(step_logits)


def build_model(m, out_root):
    name = m["name"]
    cfg = make_config(m)
    gen_cfg = make_generation_config(m)
    toks = QWEN_TOKENS if m["arch"] == "qwen2" else LLAMA_TOKENS
    eos_ids = list(gen_cfg["eos_token_id"])
    V = cfg["vocab_size"]
    out_dir = os.path.join(out_root, name)
    os.makedirs(out_dir, exist_ok=True)

    weights = init_weights(m, cfg)
    write_safetensors(os.path.join(out_dir, "model.safetensors"), weights, {"format": "pt"})
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        f.write(hf_json(cfg))
    with open(os.path.join(out_dir, "generation_config.json"), "w") as f:
        f.write(hf_json(gen_cfg))

    # The reference runs on the weights as read back from disk.
    loaded = read_safetensors(os.path.join(out_dir, "model.safetensors"))
    assert sorted(loaded) == sorted(weights)
    for k in weights:
        assert torch.equal(loaded[k], weights[k]), k
    assert ("lm_head.weight" in loaded) == (not m["tied"])

    # Inputs (seeded). Regular ids avoid the special range [240, 256); llama rows start with BOS.
    g = torch.Generator().manual_seed(m["seed"] + 500)
    n_regular = 240

    def prompt_of(length):
        ids = torch.randint(0, n_regular, (length,), generator=g, dtype=torch.int64)
        if m["arch"] == "llama":
            ids[0] = toks["bos"]
        return ids

    input_ids = prompt_of(PROMPT_LEN)
    rows = [prompt_of(n) for n in BATCH_LENGTHS]
    pad_id = toks["pad"]
    T = max(BATCH_LENGTHS)
    batch_input_ids = torch.full((len(rows), T), pad_id, dtype=torch.int64)
    batch_mask = torch.zeros((len(rows), T), dtype=torch.int64)
    for r, ids in enumerate(rows):
        batch_input_ids[r, T - len(ids):] = ids
        batch_mask[r, T - len(ids):] = 1

    m32 = RefModel(cfg, loaded, torch.float32)
    m64 = RefModel(cfg, loaded, torch.float64)
    m16 = RefModel(cfg, loaded, torch.bfloat16)

    with torch.no_grad():
        logits = m32.forward(input_ids[None])[0][0]
        logits64 = m64.forward(input_ids[None])[0][0]
        logits_bf16 = m16.forward(input_ids[None])[0][0].to(torch.float32)

        # greedy, KV cache vs full recompute (self-check)
        g_ids, g_logits = greedy_with_cache(m32, input_ids, NEW_TOKENS)
        f_ids, f_logits = greedy_full_recompute(m32, input_ids, NEW_TOKENS)
        kv_diff = float((g_logits - f_logits).abs().max())
        assert g_ids == f_ids, f"{name}: KV-cache greedy ids differ from full recompute"
        assert kv_diff <= 1e-5, f"{name}: KV-cache logits differ from full recompute by {kv_diff}"
        assert float((g_logits[0] - logits[-1]).abs().max()) <= 1e-6  # prefill last row == plain forward
        top2 = torch.topk(g_logits, 2, dim=-1).values
        greedy_min_margin = float((top2[:, 0] - top2[:, 1]).min())
        g64_ids, _ = greedy_with_cache(m64, input_ids, NEW_TOKENS)

        # batched: each row ALONE (the fixture) ...
        batch_last = torch.stack([m32.forward(ids[None])[0][0, -1] for ids in rows])
        # ... and a left-padded batched run with 2-D mask + position_ids = cumsum(mask)-1 (self-check)
        pos = (batch_mask.cumsum(-1) - 1).masked_fill(batch_mask == 0, 1)
        bl, bcache = m32.forward(batch_input_ids, position_ids=pos, attention_mask=batch_mask)
        batched_diff = float((bl[:, -1] - batch_last).abs().max())
        assert batched_diff <= 1e-5, f"{name}: padded batch vs alone differs by {batched_diff}"
        # one batched decode step through the padded cache vs alone
        nxt = torch.argmax(bl[:, -1], dim=-1)
        mask2 = torch.cat([batch_mask, torch.ones(len(rows), 1, dtype=torch.int64)], dim=1)
        pos2 = pos[:, -1:] + 1
        bl2, _ = m32.forward(nxt[:, None], position_ids=pos2, attention_mask=mask2, cache=bcache)
        alone2 = torch.stack([m32.forward(torch.cat([ids, nxt[r:r + 1]])[None])[0][0, -1]
                              for r, ids in enumerate(rows)])
        batched_decode_diff = float((bl2[:, -1] - alone2).abs().max())
        assert batched_decode_diff <= 1e-5, f"{name}: padded batch decode differs by {batched_decode_diff}"

    fp64_diff = float((logits.to(torch.float64) - logits64).abs().max())
    indep = independent_numpy_logits(cfg, loaded, input_ids.tolist())
    indep_diff = float((indep - logits64).abs().max())
    assert indep_diff <= 1e-9, f"{name}: independent numpy float64 forward differs by {indep_diff}"
    bf16_diff = float((logits_bf16 - logits).abs().max())
    distinct = len(set(g_ids))
    max_run = max(len(list(grp)) for _, grp in itertools.groupby(g_ids))
    assert distinct >= 16 and max_run <= 4, f"{name}: greedy continuation too repetitive ({distinct}, {max_run})"
    assert greedy_min_margin >= 1e-3, f"{name}: greedy path has a near-tie (margin {greedy_min_margin})"
    assert float(logits.std()) > 0.5, f"{name}: logits too small"

    ref = {
        "input_ids": input_ids,
        "logits": logits.contiguous(),
        "greedy_ids": torch.tensor(g_ids, dtype=torch.int64),
        "greedy_step_logits": g_logits.contiguous(),
        "logits_bf16": logits_bf16.contiguous(),
        "batch_input_ids": batch_input_ids,
        "batch_attention_mask": batch_mask,
        "batch_last_logits": batch_last.contiguous(),
    }
    write_safetensors(os.path.join(out_dir, "reference.safetensors"), ref,
                      {"format": "pt", "generator": "tools/parity/make_text_fixtures.py"})

    def r(x):
        return float(f"{x:.6g}")

    meta = {
        "model": name,
        "architecture": cfg["architectures"][0],
        "tie_word_embeddings": cfg["tie_word_embeddings"],
        "seed": m["seed"],
        "generator": "tools/parity/make_text_fixtures.py (plain PyTorch, transformers eager code path)",
        "torch_version": torch.__version__,
        "tensors": {k: {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape)} for k, v in ref.items()},
        "input_ids": input_ids.tolist(),
        "position_ids": "arange(0, 24) for input_ids / logits",
        "greedy_ids": g_ids,
        "greedy_ids_fp64": g64_ids,
        "greedy_ids_fp64_equal": g64_ids == g_ids,
        "ignore_eos": True,
        "greedy_note": "64 greedy (argmax, first index on ties) new tokens after input_ids; generation ignores eos "
                       "(does not stop); greedy_step_logits[t] are the fp32 logits greedy_ids[t] was chosen from",
        "greedy_distinct_ids": distinct,
        "greedy_longest_run": max_run,
        "greedy_contains_eos": any(t in eos_ids for t in g_ids),
        "greedy_min_top1_top2_margin": r(greedy_min_margin),
        "batch_lengths": BATCH_LENGTHS,
        "batch_input_ids": batch_input_ids.tolist(),
        "batch_attention_mask": batch_mask.tolist(),
        "batch_padding_side": "left",
        "batch_note": "batch_last_logits[r] = fp32 logits at the last position of row r run ALONE without padding "
                      "(positions 0..len-1); a correct left-padded batched run must reproduce them",
        "pad_token_id": pad_id,
        "bos_token_id": toks["bos"],
        "eos_token_ids": eos_ids,
        "bf16_note": "weights, embeddings, residual stream, projections, rotation and attention in bfloat16 on "
                     "CPU, eager attention; RMSNorm upcasts to fp32 and casts back before the (bf16) weight multiply; "
                     "inv_freq kept float32 as HF from_pretrained(torch_dtype=bfloat16) leaves it (a later "
                     "model.to(bfloat16) would also round the inv_freq buffer to bf16), cos/sin computed in fp32 "
                     "and cast to bf16; softmax in fp32 then cast to bf16; logits (bf16) cast to fp32 at the end. "
                     "CPU bf16 GEMMs differ from CUDA ones: compare with a loose tolerance / argmax only",
        "bf16_vs_fp32_max_abs_diff": r(bf16_diff),
        "bf16_argmax_agreement": r(float((logits_bf16.argmax(-1) == logits.argmax(-1)).double().mean())),
        "fp64_vs_fp32_max_abs_diff": r(fp64_diff),
        "independent_numpy_fp64_vs_fp64_max_abs_diff": float(f"{indep_diff:.3g}"),
        "fp64_note": "float64 variant computes everything (incl. RMSNorm, RoPE tables, softmax) in float64",
        "kv_cache_vs_full_recompute_max_abs_diff": r(kv_diff),
        "padded_batch_vs_alone_max_abs_diff": r(max(batched_diff, batched_decode_diff)),
        "logits_stats": {"min": r(float(logits.min())), "max": r(float(logits.max())),
                         "std": r(float(logits.std())), "sum": r(float(logits.double().sum()))},
        "inv_freq": [r(float(x)) for x in m32.inv_freq],
    }
    with open(os.path.join(out_dir, "reference.json"), "w") as f:
        f.write(json.dumps(meta, indent=2) + "\n")

    size = sum(os.path.getsize(os.path.join(out_dir, fn)) for fn in os.listdir(out_dir))
    assert size < 600 * 1024, f"{name}: fixture dir is {size} bytes"
    print(f"{name}: {size} bytes; fp64-vs-fp32 {fp64_diff:.3g}, bf16-vs-fp32 {bf16_diff:.3g}, "
          f"indep {indep_diff:.3g}, kv-vs-full {kv_diff:.3g}, batch {max(batched_diff, batched_decode_diff):.3g}, "
          f"logits std {float(logits.std()):.3g}, greedy distinct {distinct}, margin {greedy_min_margin:.3g}, "
          f"fp64 greedy equal {g64_ids == g_ids}")
    return meta


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="output root (default: %(default)s)")
    ap.add_argument("--only", action="append", help="model name(s) to build (default: all)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    for m in MODELS:
        if args.only and m["name"] not in args.only:
            continue
        build_model(m, args.out)


if __name__ == "__main__":
    sys.exit(main())
