#!/usr/bin/python3
"""Parity fixtures for a tiny random-weight Qwen2.5-VL checkpoint (vision tower, window attention, M-RoPE, logits).

Writes a real Hugging Face model directory in the on-disk legacy key layout

    tests/JudgeHost.Tests/Fixtures/parity/qwen25vl-tiny/
        config.json                Qwen2_5_VLConfig as the released checkpoints carry it (text keys at top level,
                                   rope_scaling {"type": "mrope", "mrope_section": [...]}, nested vision_config)
        preprocessor_config.json   Qwen2VLImageProcessor values of the released checkpoints (MODEL_SPEC 3.2)
        generation_config.json
        model.safetensors          float32 weights: visual.*, model.embed_tokens / model.layers.* / model.norm, lm_head
        reference.safetensors      reference tensors (see README.md)
        reference.json             the integer data of reference.safetensors, shapes, sanity numbers, notes

The reference is plain PyTorch following transformers' eager code path line by line
(src/transformers/models/qwen2_5_vl/modeling_qwen2_5_vl.py, commit 00b676f8f0489b88652a31d70751cc540dd06305,
a 4.53-era main; see README.md for the version-dependent details):
  * Qwen2_5_VisionPatchEmbed: view [N, 3, 2, 14, 14] -> Conv3d(kernel = stride = (2, 14, 14), no bias)
  * rot_pos_emb: (hpos, wpos) per patch from the (h/2, 2, w/2, 2) permuted arange grids, repeated t times;
    freqs = outer(arange(max(h, w)), inv_freq)[pos].flatten(1), inv_freq = 1/10000**(arange(0, d/2, 2)/(d/2)) fp32
  * get_window_index: merged grid padded with -100 to a multiple of window_size/merge/patch, windows in
    (t, win_row, win_col) order, -100 dropped; cu_window_seqlens = cumsum(#valid * 4), then unique_consecutive
  * hidden states / rotary reordered by window_index at merged-token granularity; emb = cat(freqs, freqs)
  * blocks: x += proj(attn(norm1(x))); x += mlp(norm2(x)); RMSNorm eps 1e-6 with fp32 upcast; q/k RoPE in fp32;
    eager attention run separately on every [cu[i], cu[i+1]) segment (bidirectional), softmax fp32;
    fullatt_block_indexes use cu_seqlens (per image and temporal slice), the others cu_window_seqlens
  * PatchMerger: ln_q (RMSNorm) -> view [-1, 4 * D_v] -> Linear -> GELU (exact erf) -> Linear; then
    out[argsort(window_index)]
  * get_rope_index (3 x S M-RoPE position ids, rope_delta) and apply_multimodal_rotary_pos_emb
    (mrope_section * 2 chunks, chunk k takes stream k % 3); the text decoder is Qwen2 (q/k/v bias, eager attention,
    additive causal mask finfo.min); image / video features masked_scatter-ed over the placeholder embeddings.

Self-checks (the script fails otherwise): weights round-trip through the safetensors writer/reader; an independent
float64 implementation (no window reordering at all: attention masked to same-window / same-slice in the ORIGINAL
patch order, per-frequency-index M-RoPE stream choice, a token-walk rope index) matches the port run in float64;
greedy decoding with a KV cache (decode positions = cache_position + rope_delta) equals full recompute.

Run with Debian's python3-torch:   /usr/bin/python3 tools/parity/make_vl_fixtures.py
Needs only torch + numpy (the safetensors writer/reader is shared with make_text_fixtures.py).
Deterministic: fixed seeds, single thread, CPU.
"""
import argparse
import itertools
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ next to the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_text_fixtures import (  # noqa: E402  (same directory; tiny safetensors writer/reader, HF json style)
    hf_json, read_safetensors, rotate_half, repeat_kv, write_safetensors)

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_OUT = os.path.join(REPO_ROOT, "tests", "JudgeHost.Tests", "Fixtures", "parity")
NAME = "qwen25vl-tiny"

EMULATED_TRANSFORMERS_VERSION = "4.53.2"
FOLLOWED_SOURCE = ("huggingface/transformers src/transformers/models/qwen2_5_vl/modeling_qwen2_5_vl.py "
                   "@ 00b676f8f0489b88652a31d70751cc540dd06305 (4.53-era main; it still warns that "
                   "rotary_pos_emb goes away in v4.54)")

# token ids: same relative layout as the real vocabulary (151643 <|endoftext|>, 151644 <|im_start|>,
# 151645 <|im_end|>, 151652 <|vision_start|>, 151653 <|vision_end|>, 151654 <|vision_pad|>, 151655 <|image_pad|>,
# 151656 <|video_pad|>)
TOK = dict(endoftext=290, im_start=291, im_end=292, vision_start=300, vision_end=301, vision_pad=302,
           image_pad=303, video_pad=304)
N_REGULAR = 290  # ordinary "text" ids are drawn from [0, 290)

IMAGE_GRID_THW = [[1, 8, 12], [1, 6, 4]]  # 112x168 px (merged 4x6: not a multiple of the 4x4 window) and 84x56 px
VIDEO_GRID_THW = [[2, 4, 4]]               # 4 frames of 56x56 px -> 2 temporal patches
SECOND_PER_GRID_TS = [1.0]                 # temporal_patch_size / fps with the default fps 2.0
NEW_TOKENS = 16
SEED = 3010  # weights; inputs use SEED + 1. Picked from 3000..3011: the 16-token greedy continuation is varied,
#             has no special ids (a generated <|image_pad|> would break the full-recompute check) and no near-ties


def make_config():
    vision = {
        "depth": 4,
        "fullatt_block_indexes": [1, 3],
        "hidden_act": "silu",
        "hidden_size": 32,
        "in_channels": 3,
        "in_chans": 3,
        "intermediate_size": 64,
        "model_type": "qwen2_5_vl",
        "num_heads": 2,
        "out_hidden_size": 64,
        "patch_size": 14,
        "spatial_merge_size": 2,
        "spatial_patch_size": 14,
        "temporal_patch_size": 2,
        "tokens_per_second": 2,
        "window_size": 112,
    }
    return {
        "architectures": ["Qwen2_5_VLForConditionalGeneration"],
        "attention_dropout": 0.0,
        "bos_token_id": TOK["endoftext"],
        "eos_token_id": TOK["im_end"],
        "hidden_act": "silu",
        "hidden_size": 64,
        "image_token_id": TOK["image_pad"],
        "initializer_range": 0.02,
        "intermediate_size": 128,
        "max_position_embeddings": 1024,
        "max_window_layers": 2,
        "model_type": "qwen2_5_vl",
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "num_key_value_heads": 2,
        "rms_norm_eps": 1e-06,
        "rope_scaling": {"mrope_section": [2, 3, 3], "type": "mrope"},
        "rope_theta": 1000000.0,
        "sliding_window": 32768,  # as in the released configs; unused because use_sliding_window is false
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
        "transformers_version": EMULATED_TRANSFORMERS_VERSION,
        "use_cache": True,
        "use_sliding_window": False,
        "video_token_id": TOK["video_pad"],
        "vision_config": vision,
        "vision_end_token_id": TOK["vision_end"],
        "vision_start_token_id": TOK["vision_start"],
        "vision_token_id": TOK["vision_pad"],
        "vocab_size": 320,
    }


def make_generation_config():
    return {"bos_token_id": TOK["endoftext"], "do_sample": False, "eos_token_id": [TOK["im_end"], TOK["endoftext"]],
            "pad_token_id": TOK["endoftext"], "transformers_version": EMULATED_TRANSFORMERS_VERSION}


def make_preprocessor_config():
    # Qwen/Qwen2.5-VL-*-Instruct preprocessor_config.json (MODEL_SPEC 3.2); resample / rescale are the class defaults
    return {
        "do_convert_rgb": True,
        "do_normalize": True,
        "do_rescale": True,
        "do_resize": True,
        "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_processor_type": "Qwen2VLImageProcessor",
        "image_std": [0.26862954, 0.26130258, 0.27577711],
        "max_pixels": 12845056,
        "merge_size": 2,
        "min_pixels": 3136,
        "patch_size": 14,
        "processor_class": "Qwen2_5_VLProcessor",
        "resample": 3,
        "rescale_factor": 0.00392156862745098,
        "temporal_patch_size": 2,
    }


# ----------------------------------------------------------------------------------------------------------------------
# Weights
# ----------------------------------------------------------------------------------------------------------------------

def init_weights(cfg, seed):
    g = torch.Generator().manual_seed(seed)
    vc = cfg["vision_config"]
    D, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    H, Hkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    d = D // H
    Dv, Iv, Do = vc["hidden_size"], vc["intermediate_size"], vc["out_hidden_size"]
    C, tp, p, m = vc["in_chans"], vc["temporal_patch_size"], vc["patch_size"], vc["spatial_merge_size"]
    Dm = Dv * m * m

    def normal(*shape, std):
        return (torch.randn(*shape, generator=g, dtype=torch.float32) * std).contiguous()

    def norm_w(n):
        return (1.0 + 0.1 * torch.randn(n, generator=g, dtype=torch.float32)).contiguous()

    w = {"visual.patch_embed.proj.weight": normal(Dv, C, tp, p, p, std=0.04)}
    for i in range(vc["depth"]):
        b = f"visual.blocks.{i}."
        w[b + "norm1.weight"] = norm_w(Dv)
        w[b + "norm2.weight"] = norm_w(Dv)
        w[b + "attn.qkv.weight"] = normal(3 * Dv, Dv, std=0.2)
        w[b + "attn.qkv.bias"] = normal(3 * Dv, std=0.1)
        w[b + "attn.proj.weight"] = normal(Dv, Dv, std=0.2)
        w[b + "attn.proj.bias"] = normal(Dv, std=0.1)
        w[b + "mlp.gate_proj.weight"] = normal(Iv, Dv, std=0.2)
        w[b + "mlp.gate_proj.bias"] = normal(Iv, std=0.1)
        w[b + "mlp.up_proj.weight"] = normal(Iv, Dv, std=0.2)
        w[b + "mlp.up_proj.bias"] = normal(Iv, std=0.1)
        w[b + "mlp.down_proj.weight"] = normal(Dv, Iv, std=0.15)
        w[b + "mlp.down_proj.bias"] = normal(Dv, std=0.1)
    w["visual.merger.ln_q.weight"] = norm_w(Dv)
    w["visual.merger.mlp.0.weight"] = normal(Dm, Dm, std=0.12)
    w["visual.merger.mlp.0.bias"] = normal(Dm, std=0.1)
    w["visual.merger.mlp.2.weight"] = normal(Do, Dm, std=0.1)
    w["visual.merger.mlp.2.bias"] = normal(Do, std=0.1)

    w["model.embed_tokens.weight"] = normal(V, D, std=0.25)
    for i in range(cfg["num_hidden_layers"]):
        p_ = f"model.layers.{i}."
        w[p_ + "input_layernorm.weight"] = norm_w(D)
        w[p_ + "self_attn.q_proj.weight"] = normal(H * d, D, std=0.15)
        w[p_ + "self_attn.q_proj.bias"] = normal(H * d, std=0.1)
        w[p_ + "self_attn.k_proj.weight"] = normal(Hkv * d, D, std=0.15)
        w[p_ + "self_attn.k_proj.bias"] = normal(Hkv * d, std=0.1)
        w[p_ + "self_attn.v_proj.weight"] = normal(Hkv * d, D, std=0.15)
        w[p_ + "self_attn.v_proj.bias"] = normal(Hkv * d, std=0.1)
        w[p_ + "self_attn.o_proj.weight"] = normal(D, H * d, std=0.15)
        w[p_ + "post_attention_layernorm.weight"] = norm_w(D)
        w[p_ + "mlp.gate_proj.weight"] = normal(I, D, std=0.15)
        w[p_ + "mlp.up_proj.weight"] = normal(I, D, std=0.15)
        w[p_ + "mlp.down_proj.weight"] = normal(D, I, std=0.15)
    w["model.norm.weight"] = norm_w(D)
    w["lm_head.weight"] = normal(V, D, std=0.3)
    return w


# ----------------------------------------------------------------------------------------------------------------------
# Reference model (transformers eager path)
# ----------------------------------------------------------------------------------------------------------------------

class RefVL:
    """dtype float32 = HF fp32 model; float64 = everything (incl. the fp32 islands: RMSNorm, RoPE, softmax) in fp64."""

    def __init__(self, cfg, weights, dtype):
        self.cfg = cfg
        self.vc = cfg["vision_config"]
        self.dtype = dtype
        self.acc = torch.float64 if dtype == torch.float64 else torch.float32
        self.w = {k: v.to(dtype) for k, v in weights.items()}
        vc = self.vc
        # vision
        self.Dv = vc["hidden_size"]
        self.Hv = vc["num_heads"]
        self.dv = self.Dv // self.Hv
        self.C, self.tp, self.p = vc["in_chans"], vc["temporal_patch_size"], vc["patch_size"]
        self.merge = vc["spatial_merge_size"]
        self.merge_unit = self.merge * self.merge
        self.window_size = vc["window_size"]
        self.fullatt = vc["fullatt_block_indexes"]
        # Qwen2_5_VisionRotaryEmbedding(head_dim // 2): 1 / theta ** (arange(0, dim, 2, dtype=float) / dim)
        rdim = self.dv // 2
        self.v_inv_freq = 1.0 / (10000.0 ** (torch.arange(0, rdim, 2, dtype=self.acc) / rdim))
        # text
        self.D = cfg["hidden_size"]
        self.H = cfg["num_attention_heads"]
        self.Hkv = cfg["num_key_value_heads"]
        self.d = self.D // self.H
        self.eps = cfg["rms_norm_eps"]
        self.L = cfg["num_hidden_layers"]
        self.mrope_section = cfg["rope_scaling"]["mrope_section"]
        # rope_type "mrope" -> "default": _compute_default_rope_parameters
        self.inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, self.d, 2, dtype=torch.int64).to(self.acc)
                                                    / self.d))

    # -- shared -------------------------------------------------------------------------------------------------------
    def rms_norm(self, x, weight, eps):
        input_dtype = x.dtype
        h = x.to(self.acc)
        variance = h.pow(2).mean(-1, keepdim=True)
        h = h * torch.rsqrt(variance + eps)
        return weight * h.to(input_dtype)

    def linear(self, x, name):
        return F.linear(x, self.w[name + ".weight"], self.w.get(name + ".bias"))

    # -- vision tower -------------------------------------------------------------------------------------------------
    def rot_pos_emb(self, grid_thw):
        ms = self.merge
        pos_ids = []
        for t, h, w in grid_thw.tolist():
            hpos = torch.arange(h).unsqueeze(1).expand(-1, w)
            hpos = hpos.reshape(h // ms, ms, w // ms, ms).permute(0, 2, 1, 3).flatten()
            wpos = torch.arange(w).unsqueeze(0).expand(h, -1)
            wpos = wpos.reshape(h // ms, ms, w // ms, ms).permute(0, 2, 1, 3).flatten()
            pos_ids.append(torch.stack([hpos, wpos], dim=-1).repeat(t, 1))
        pos_ids = torch.cat(pos_ids, dim=0)
        max_grid_size = int(grid_thw[:, 1:].max())
        seq = torch.arange(max_grid_size, dtype=self.v_inv_freq.dtype)
        full = torch.outer(seq, self.v_inv_freq)
        return full[pos_ids].flatten(1)

    def get_window_index(self, grid_thw):
        window_index, cu_window_seqlens = [], [0]
        window_index_id = 0
        vws = self.window_size // self.merge // self.p
        for grid_t, grid_h, grid_w in grid_thw.tolist():
            llm_h, llm_w = grid_h // self.merge, grid_w // self.merge
            index = torch.arange(grid_t * llm_h * llm_w).reshape(grid_t, llm_h, llm_w)
            pad_h = vws - llm_h % vws
            pad_w = vws - llm_w % vws
            nwh = (llm_h + pad_h) // vws
            nww = (llm_w + pad_w) // vws
            index_padded = F.pad(index, (0, pad_w, 0, pad_h), "constant", -100)
            index_padded = index_padded.reshape(grid_t, nwh, vws, nww, vws)
            index_padded = index_padded.permute(0, 1, 3, 2, 4).reshape(grid_t, nwh * nww, vws, vws)
            seqlens = (index_padded != -100).sum([2, 3]).reshape(-1)
            index_padded = index_padded.reshape(-1)
            index_new = index_padded[index_padded != -100]
            window_index.append(index_new + window_index_id)
            cu_tmp = seqlens.cumsum(0) * self.merge_unit + cu_window_seqlens[-1]
            cu_window_seqlens.extend(cu_tmp.tolist())
            window_index_id += grid_t * llm_h * llm_w
        return torch.cat(window_index, dim=0), cu_window_seqlens

    def vision_attn(self, x, cu_seqlens, cos, sin, b):
        N = x.shape[0]
        q, k, v = self.linear(x, b + "attn.qkv").reshape(N, 3, self.Hv, -1).permute(1, 0, 2, 3).unbind(0)
        # apply_rotary_pos_emb_vision: fp32
        od = q.dtype
        qf, kf = q.to(self.acc), k.to(self.acc)
        c, s = cos.unsqueeze(-2).to(self.acc), sin.unsqueeze(-2).to(self.acc)
        q = ((qf * c) + (rotate_half(qf) * s)).to(od)
        k = ((kf * c) + (rotate_half(kf) * s)).to(od)
        q = q.transpose(0, 1).unsqueeze(0)
        k = k.transpose(0, 1).unsqueeze(0)
        v = v.transpose(0, 1).unsqueeze(0)
        lengths = (cu_seqlens[1:] - cu_seqlens[:-1]).tolist()
        scaling = self.dv ** -0.5
        outs = []
        for qs, ks, vs in zip(torch.split(q, lengths, dim=2), torch.split(k, lengths, dim=2),
                              torch.split(v, lengths, dim=2)):
            a = torch.matmul(qs, ks.transpose(2, 3)) * scaling
            a = F.softmax(a, dim=-1, dtype=self.acc).to(qs.dtype)
            outs.append(torch.matmul(a, vs).transpose(1, 2).contiguous())
        o = torch.cat(outs, dim=1).reshape(N, -1).contiguous()
        return self.linear(o, b + "attn.proj")

    def visual(self, pixel_values, grid_thw, trace=None):
        """Qwen2_5_VisionTransformerPretrainedModel.forward. trace: optional dict receiving intermediates."""
        x = pixel_values.to(self.dtype).view(-1, self.C, self.tp, self.p, self.p)
        x = F.conv3d(x, self.w["visual.patch_embed.proj.weight"], stride=(self.tp, self.p, self.p)).view(-1, self.Dv)
        patch_embeds = x
        rotary = self.rot_pos_emb(grid_thw)
        window_index, cu_window_seqlens = self.get_window_index(grid_thw)
        cu_window_seqlens_raw = list(cu_window_seqlens)
        cu_window_seqlens = torch.unique_consecutive(torch.tensor(cu_window_seqlens, dtype=torch.int64))
        N = x.shape[0]
        x = x.reshape(N // self.merge_unit, self.merge_unit, -1)[window_index, :, :].reshape(N, -1)
        rot = rotary.reshape(N // self.merge_unit, self.merge_unit, -1)[window_index, :, :].reshape(N, -1)
        emb = torch.cat((rot, rot), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        cu_seqlens = torch.repeat_interleave(grid_thw[:, 1] * grid_thw[:, 2], grid_thw[:, 0]).cumsum(0)
        cu_seqlens = F.pad(cu_seqlens, (1, 0), value=0)
        blocks_out = []
        for i in range(self.vc["depth"]):
            b = f"visual.blocks.{i}."
            cu = cu_seqlens if i in self.fullatt else cu_window_seqlens
            x = x + self.vision_attn(self.rms_norm(x, self.w[b + "norm1.weight"], 1e-6), cu, cos, sin, b)
            h = self.rms_norm(x, self.w[b + "norm2.weight"], 1e-6)
            x = x + self.linear(F.silu(self.linear(h, b + "mlp.gate_proj")) * self.linear(h, b + "mlp.up_proj"),
                                b + "mlp.down_proj")
            blocks_out.append(x)
        h = self.rms_norm(x, self.w["visual.merger.ln_q.weight"], 1e-6).view(-1, self.Dv * self.merge_unit)
        h = F.gelu(self.linear(h, "visual.merger.mlp.0"))  # nn.GELU(): approximate="none" (erf)
        h = self.linear(h, "visual.merger.mlp.2")
        out = h[torch.argsort(window_index), :]
        if trace is not None:
            trace.update(patch_embeds=patch_embeds, rotary_pos_emb=rotary, window_index=window_index,
                         cu_window_seqlens=cu_window_seqlens, cu_window_seqlens_raw=cu_window_seqlens_raw,
                         cu_seqlens=cu_seqlens,
                         blocks_out=torch.stack(blocks_out))
        return out

    # -- M-RoPE position ids ------------------------------------------------------------------------------------------
    def get_rope_index(self, input_ids, image_grid_thw=None, video_grid_thw=None, second_per_grid_ts=None,
                       attention_mask=None, float_second_per_grid=False):
        """Qwen2_5_VLModel.get_rope_index. float_second_per_grid=True: the older (<= ~4.50) behaviour that keeps
        second_per_grid_t a float; default False truncates it to int64 as the followed version does."""
        ms = self.merge
        image_token_id, video_token_id = self.cfg["image_token_id"], self.cfg["video_token_id"]
        vision_start_token_id = self.cfg["vision_start_token_id"]
        tps = self.vc["tokens_per_second"]
        deltas = []
        if input_ids is not None and (image_grid_thw is not None or video_grid_thw is not None):
            total_input_ids = input_ids
            if attention_mask is None:
                attention_mask = torch.ones_like(total_input_ids)
            position_ids = torch.ones(3, input_ids.shape[0], input_ids.shape[1], dtype=input_ids.dtype)
            image_index, video_index = 0, 0
            for i, ids in enumerate(total_input_ids):
                ids = ids[attention_mask[i] == 1]
                vision_start_indices = torch.argwhere(ids == vision_start_token_id).squeeze(1)
                vision_tokens = ids[vision_start_indices + 1]
                image_nums = int((vision_tokens == image_token_id).sum())
                video_nums = int((vision_tokens == video_token_id).sum())
                input_tokens = ids.tolist()
                llm_pos_ids_list = []
                st = 0
                remain_images, remain_videos = image_nums, video_nums
                for _ in range(image_nums + video_nums):
                    if image_token_id in input_tokens and remain_images > 0:
                        ed_image = input_tokens.index(image_token_id, st)
                    else:
                        ed_image = len(input_tokens) + 1
                    if video_token_id in input_tokens and remain_videos > 0:
                        ed_video = input_tokens.index(video_token_id, st)
                    else:
                        ed_video = len(input_tokens) + 1
                    if ed_image < ed_video:
                        t, h, w = image_grid_thw[image_index].tolist()
                        second_per_grid_t = 0
                        image_index += 1
                        remain_images -= 1
                        ed = ed_image
                    else:
                        t, h, w = video_grid_thw[video_index].tolist()
                        if second_per_grid_ts is not None:
                            second_per_grid_t = second_per_grid_ts[video_index]
                        else:
                            second_per_grid_t = 1.0
                        video_index += 1
                        remain_videos -= 1
                        ed = ed_video
                    llm_t, llm_h, llm_w = t, h // ms, w // ms
                    text_len = ed - st
                    st_idx = int(llm_pos_ids_list[-1].max()) + 1 if len(llm_pos_ids_list) > 0 else 0
                    llm_pos_ids_list.append(torch.arange(text_len).view(1, -1).expand(3, -1) + st_idx)
                    range_tensor = torch.arange(llm_t).view(-1, 1)
                    expanded_range = range_tensor.expand(-1, llm_h * llm_w)
                    if float_second_per_grid:
                        sec = torch.as_tensor(second_per_grid_t, dtype=torch.float32)
                    else:
                        sec = torch.as_tensor(second_per_grid_t, dtype=range_tensor.dtype)
                    time_tensor = expanded_range * sec * tps
                    t_index = time_tensor.long().flatten()
                    h_index = torch.arange(llm_h).view(1, -1, 1).expand(llm_t, -1, llm_w).flatten()
                    w_index = torch.arange(llm_w).view(1, 1, -1).expand(llm_t, llm_h, -1).flatten()
                    llm_pos_ids_list.append(torch.stack([t_index, h_index, w_index]) + text_len + st_idx)
                    st = ed + llm_t * llm_h * llm_w
                if st < len(input_tokens):
                    st_idx = int(llm_pos_ids_list[-1].max()) + 1 if len(llm_pos_ids_list) > 0 else 0
                    text_len = len(input_tokens) - st
                    llm_pos_ids_list.append(torch.arange(text_len).view(1, -1).expand(3, -1) + st_idx)
                llm_positions = torch.cat(llm_pos_ids_list, dim=1).reshape(3, -1)
                position_ids[..., i, attention_mask[i] == 1] = llm_positions
                deltas.append(int(llm_positions.max()) + 1 - len(total_input_ids[i]))
            return position_ids, torch.tensor(deltas, dtype=torch.int64).unsqueeze(1)
        position_ids = torch.arange(input_ids.shape[1]).view(1, 1, -1).expand(3, input_ids.shape[0], -1)
        return position_ids, torch.zeros([input_ids.shape[0], 1], dtype=input_ids.dtype)

    # -- text decoder -------------------------------------------------------------------------------------------------
    def rope(self, position_ids):
        # Qwen2_5_VLRotaryEmbedding.forward: position_ids [3, B, S] -> cos/sin [3, B, S, d]
        inv = self.inv_freq[None, None, :, None].to(self.acc).expand(3, position_ids.shape[1], -1, 1)
        pos = position_ids[:, :, None, :].to(self.acc)
        freqs = (inv @ pos).transpose(2, 3)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(self.dtype), emb.sin().to(self.dtype)

    def mrope_select(self, t):
        sec = self.mrope_section * 2
        return torch.cat([m[i % 3] for i, m in enumerate(t.split(sec, dim=-1))], dim=-1).unsqueeze(1)

    def embed(self, input_ids, image_embeds=None, video_embeds=None):
        x = F.embedding(input_ids, self.w["model.embed_tokens.weight"])
        for emb, tok in ((image_embeds, self.cfg["image_token_id"]), (video_embeds, self.cfg["video_token_id"])):
            if emb is None:
                continue
            mask = input_ids == tok
            assert int(mask.sum()) == emb.shape[0], "placeholder count != feature rows"
            x = x.masked_scatter(mask.unsqueeze(-1).expand_as(x), emb.to(x.dtype))
        return x

    def decoder(self, inputs_embeds, position_ids, cache=None):
        """inputs_embeds [B,S,D], position_ids [3,B,S]. Returns (logits [B,S,V], new cache)."""
        B, S, _ = inputs_embeds.shape
        P = 0 if cache is None else cache[0][0].shape[2]
        x = inputs_embeds
        cos, sin = self.rope(position_ids)
        cos_u, sin_u = self.mrope_select(cos), self.mrope_select(sin)
        q_pos = torch.arange(P, P + S)[:, None]
        k_pos = torch.arange(P + S)[None, :]
        allowed = (k_pos <= q_pos)[None, None].expand(B, 1, S, P + S)
        mask = torch.zeros(B, 1, S, P + S, dtype=self.dtype).masked_fill(~allowed, torch.finfo(self.dtype).min)
        new_cache = []
        n_rep = self.H // self.Hkv
        scaling = self.d ** -0.5
        for i in range(self.L):
            p = f"model.layers.{i}."
            residual = x
            h = self.rms_norm(x, self.w[p + "input_layernorm.weight"], self.eps)
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
            attn = torch.matmul(q, ks.transpose(2, 3)) * scaling + mask
            attn = F.softmax(attn, dim=-1, dtype=self.acc).to(q.dtype)
            a = torch.matmul(attn, vs).transpose(1, 2).contiguous().reshape(B, S, -1)
            x = residual + self.linear(a, p + "self_attn.o_proj")
            residual = x
            h = self.rms_norm(x, self.w[p + "post_attention_layernorm.weight"], self.eps)
            mlp = self.linear(F.silu(self.linear(h, p + "mlp.gate_proj")) * self.linear(h, p + "mlp.up_proj"),
                              p + "mlp.down_proj")
            x = residual + mlp
        x = self.rms_norm(x, self.w["model.norm.weight"], self.eps)
        return F.linear(x, self.w["lm_head.weight"]), new_cache


# ----------------------------------------------------------------------------------------------------------------------
# Independent float64 implementation (cross-check only)
# ----------------------------------------------------------------------------------------------------------------------

def independent_vision(cfg, W, pixel_values, grid_thw):
    """No window reordering: attention in the ORIGINAL patch order, masked to same window (window blocks) or same
    image + temporal slice (full blocks); window membership from the patch coordinates directly."""
    vc = cfg["vision_config"]
    Dv, Hv = vc["hidden_size"], vc["num_heads"]
    dv = Dv // Hv
    ms = vc["spatial_merge_size"]
    win = vc["window_size"] // (vc["patch_size"] * ms)  # merged tokens per window side
    W = {k: v.double() for k, v in W.items()}
    coords = []  # (image, t, h, w) per row, in the processor's row order (t, bh, bw, mh, mw)
    for img, (t, h, w) in enumerate(grid_thw.tolist()):
        for ti in range(t):
            for bh in range(h // ms):
                for bw in range(w // ms):
                    for mh in range(ms):
                        for mw in range(ms):
                            coords.append((img, ti, bh * ms + mh, bw * ms + mw))
    N = len(coords)
    x = pixel_values.double() @ W["visual.patch_embed.proj.weight"].reshape(Dv, -1).T
    r = dv // 2
    inv = [10000.0 ** (-(2.0 * j) / r) for j in range(r // 2)]
    ang = torch.tensor([[c[2] * f for f in inv] + [c[3] * f for f in inv] for c in coords], dtype=torch.float64)
    cos, sin = torch.cos(ang), torch.sin(ang)  # [N, dv/2]: angle j rotates the pair (j, j + dv/2)

    def rot(z):  # z [N, Hv, dv]
        a, b = z[..., :dv // 2], z[..., dv // 2:]
        c, s = cos[:, None, :], sin[:, None, :]
        return torch.cat([a * c - b * s, b * c + a * s], dim=-1)

    win_key = [(c[0], c[1], (c[2] // ms) // win, (c[3] // ms) // win) for c in coords]
    full_key = [(c[0], c[1]) for c in coords]
    same_win = torch.tensor([[win_key[i] == win_key[j] for j in range(N)] for i in range(N)])
    same_full = torch.tensor([[full_key[i] == full_key[j] for j in range(N)] for i in range(N)])

    def norm(z, wt):
        return wt * (z / torch.sqrt((z * z).mean(-1, keepdim=True) + 1e-6))

    def lin(z, name):
        return z @ W[name + ".weight"].T + W[name + ".bias"]

    for i in range(vc["depth"]):
        b = f"visual.blocks.{i}."
        allowed = same_full if i in vc["fullatt_block_indexes"] else same_win
        h = norm(x, W[b + "norm1.weight"])
        qkv = lin(h, b + "attn.qkv")
        q, k, v = (qkv[:, j * Dv:(j + 1) * Dv].reshape(N, Hv, dv) for j in range(3))
        q, k = rot(q), rot(k)
        heads = []
        for hh in range(Hv):
            sc = (q[:, hh] @ k[:, hh].T) / math.sqrt(dv)
            sc = sc.masked_fill(~allowed, float("-inf"))
            pr = torch.softmax(sc, dim=-1)
            heads.append(pr @ v[:, hh])
        x = x + lin(torch.cat(heads, dim=-1), b + "attn.proj")
        h = norm(x, W[b + "norm2.weight"])
        g = lin(h, b + "mlp.gate_proj")
        x = x + lin(g / (1 + torch.exp(-g)) * lin(h, b + "mlp.up_proj"), b + "mlp.down_proj")
    h = norm(x, W["visual.merger.ln_q.weight"]).reshape(N // (ms * ms), -1)
    h = lin(h, "visual.merger.mlp.0")
    h = 0.5 * h * (1 + torch.erf(h / math.sqrt(2.0)))
    return lin(h, "visual.merger.mlp.2")


def independent_rope_index(cfg, ids, image_grid_thw, video_grid_thw, second_per_grid_ts):
    """Token walk: a text token takes next_pos on all three streams; a run of placeholders gets
    (base + int(t * sec * tokens_per_second), base + row, base + col) with base = next_pos; afterwards next_pos =
    1 + the largest position handed out."""
    ms = cfg["vision_config"]["spatial_merge_size"]
    tps = cfg["vision_config"]["tokens_per_second"]
    pos = [[], [], []]
    nxt, i, n_img, n_vid = 0, 0, 0, 0
    while i < len(ids):
        if ids[i] in (cfg["image_token_id"], cfg["video_token_id"]):
            if ids[i] == cfg["image_token_id"]:
                (t, h, w), sec = image_grid_thw[n_img], 0
                n_img += 1
            else:
                (t, h, w), sec = video_grid_thw[n_vid], int(second_per_grid_ts[n_vid])
                n_vid += 1
            base, top = nxt, nxt
            for ti in range(t):
                for hi in range(h // ms):
                    for wi in range(w // ms):
                        assert ids[i] in (cfg["image_token_id"], cfg["video_token_id"])
                        p3 = (base + int(ti * sec * tps), base + hi, base + wi)
                        for s in range(3):
                            pos[s].append(p3[s])
                        top = max(top, *p3)
                        i += 1
            nxt = top + 1
        else:
            for s in range(3):
                pos[s].append(nxt)
            nxt += 1
            i += 1
    return torch.tensor(pos, dtype=torch.int64), nxt - len(ids)


def independent_logits(cfg, W, inputs_embeds, position_ids):
    """float64; M-RoPE as: frequency index j uses stream t for j < s0, h for s0 <= j < s0+s1, w above; rotation of
    the pairs (j, j + d/2)."""
    W = {k: v.double() for k, v in W.items()}
    D, H, Hkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    d = D // H
    eps = cfg["rms_norm_eps"]
    s0, s1, _ = cfg["rope_scaling"]["mrope_section"]
    inv = [cfg["rope_theta"] ** (-(2.0 * j) / d) for j in range(d // 2)]
    stream = [0 if j < s0 else (1 if j < s0 + s1 else 2) for j in range(d // 2)]
    S = inputs_embeds.shape[0]
    ang = torch.tensor([[float(position_ids[stream[j], n]) * inv[j] for j in range(d // 2)] for n in range(S)],
                       dtype=torch.float64)
    cos, sin = torch.cos(ang)[:, None, :], torch.sin(ang)[:, None, :]

    def rot(z):
        a, b = z[..., :d // 2], z[..., d // 2:]
        return torch.cat([a * cos - b * sin, b * cos + a * sin], dim=-1)

    def norm(z, wt):
        return wt * (z / torch.sqrt((z * z).mean(-1, keepdim=True) + eps))

    def lin(z, name):
        y = z @ W[name + ".weight"].T
        return y + W[name + ".bias"] if name + ".bias" in W else y

    causal = torch.tril(torch.ones(S, S, dtype=torch.bool))
    x = inputs_embeds.double()
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = norm(x, W[p + "input_layernorm.weight"])
        q = rot(lin(h, p + "self_attn.q_proj").reshape(S, H, d))
        k = rot(lin(h, p + "self_attn.k_proj").reshape(S, Hkv, d))
        v = lin(h, p + "self_attn.v_proj").reshape(S, Hkv, d)
        heads = []
        for hh in range(H):
            kv = hh // (H // Hkv)
            sc = ((q[:, hh] @ k[:, kv].T) / math.sqrt(d)).masked_fill(~causal, float("-inf"))
            heads.append(torch.softmax(sc, dim=-1) @ v[:, kv])
        x = x + lin(torch.cat(heads, dim=-1), p + "self_attn.o_proj")
        h = norm(x, W[p + "post_attention_layernorm.weight"])
        g = lin(h, p + "mlp.gate_proj")
        x = x + lin(g / (1 + torch.exp(-g)) * lin(h, p + "mlp.up_proj"), p + "mlp.down_proj")
    return norm(x, W["model.norm.weight"]) @ W["lm_head.weight"].T


# ----------------------------------------------------------------------------------------------------------------------
# Fixture generation
# ----------------------------------------------------------------------------------------------------------------------

def build_prompt(g):
    """Chat-like layout after the processor's placeholder expansion."""
    ms2 = 4  # spatial_merge_size ** 2

    def text(n):
        return torch.randint(0, N_REGULAR, (n,), generator=g, dtype=torch.int64).tolist()

    def block(pad, thw):
        t, h, w = thw
        return [TOK["vision_start"]] + [pad] * (t * h * w // ms2) + [TOK["vision_end"]]

    ids = [TOK["im_start"]] + text(4)
    ids += block(TOK["image_pad"], IMAGE_GRID_THW[0]) + text(3)
    ids += block(TOK["image_pad"], IMAGE_GRID_THW[1]) + text(2)
    ids += block(TOK["video_pad"], VIDEO_GRID_THW[0]) + text(3)
    ids += [TOK["im_end"], TOK["im_start"]] + text(2)
    text_ids = [TOK["im_start"]] + text(9) + [TOK["im_end"], TOK["im_start"]] + text(2)
    return torch.tensor(ids, dtype=torch.int64), torch.tensor(text_ids, dtype=torch.int64)


def run_prompt(model, input_ids, image_embeds, video_embeds, igrid, vgrid, spg):
    pos, delta = model.get_rope_index(input_ids[None], igrid, vgrid, spg)
    emb = model.embed(input_ids[None], image_embeds, video_embeds)
    logits, cache = model.decoder(emb, pos)
    return logits[0], cache, pos[:, 0], int(delta[0, 0])


def greedy_with_cache(model, input_ids, image_embeds, video_embeds, igrid, vgrid, spg, n):
    logits, cache, _, delta = run_prompt(model, input_ids, image_embeds, video_embeds, igrid, vgrid, spg)
    last = logits[-1]
    ids, step_logits, positions = [], [], []
    cache_position = input_ids.shape[0]
    for _ in range(n):
        step_logits.append(last)
        nxt = int(torch.argmax(last))
        ids.append(nxt)
        pos = torch.full((3, 1, 1), cache_position + delta, dtype=torch.int64)  # cache_position + rope_delta
        positions.append(cache_position + delta)
        emb = model.embed(torch.tensor([[nxt]], dtype=torch.int64))
        out, cache = model.decoder(emb, pos, cache)
        last = out[0, -1]
        cache_position += 1
    return ids, torch.stack(step_logits), positions


def greedy_full_recompute(model, input_ids, image_embeds, video_embeds, igrid, vgrid, spg, n):
    seq = input_ids.tolist()
    ids, step_logits = [], []
    for _ in range(n):
        logits, _, pos, _ = run_prompt(model, torch.tensor(seq, dtype=torch.int64), image_embeds, video_embeds,
                                       igrid, vgrid, spg)
        step_logits.append(logits[-1])
        nxt = int(torch.argmax(logits[-1]))
        ids.append(nxt)
        seq.append(nxt)
    return ids, torch.stack(step_logits), pos[:, input_ids.shape[0]:]


def build(out_root, seed=SEED):
    cfg = make_config()
    vc = cfg["vision_config"]
    out_dir = os.path.join(out_root, NAME)
    os.makedirs(out_dir, exist_ok=True)

    weights = init_weights(cfg, seed)
    write_safetensors(os.path.join(out_dir, "model.safetensors"), weights, {"format": "pt"})
    for fn, obj in (("config.json", cfg), ("generation_config.json", make_generation_config()),
                    ("preprocessor_config.json", make_preprocessor_config())):
        with open(os.path.join(out_dir, fn), "w") as f:
            f.write(hf_json(obj))
    loaded = read_safetensors(os.path.join(out_dir, "model.safetensors"))
    assert sorted(loaded) == sorted(weights)
    for k in weights:
        assert torch.equal(loaded[k], weights[k]), k
    assert loaded["visual.patch_embed.proj.weight"].shape == (32, 3, 2, 14, 14)

    # inputs
    g = torch.Generator().manual_seed(seed + 1)
    igrid = torch.tensor(IMAGE_GRID_THW, dtype=torch.int64)
    vgrid = torch.tensor(VIDEO_GRID_THW, dtype=torch.int64)
    spg = torch.tensor(SECOND_PER_GRID_TS, dtype=torch.float32)
    row = vc["in_chans"] * vc["temporal_patch_size"] * vc["patch_size"] ** 2
    n_img = int(igrid.prod(-1).sum())
    n_vid = int(vgrid.prod(-1).sum())
    pixel_values = torch.randn(n_img, row, generator=g, dtype=torch.float32)
    pixel_values_videos = torch.randn(n_vid, row, generator=g, dtype=torch.float32)
    input_ids, text_ids = build_prompt(g)

    m32 = RefVL(cfg, loaded, torch.float32)
    m64 = RefVL(cfg, loaded, torch.float64)
    with torch.no_grad():
        tr, vtr = {}, {}
        vision_output = m32.visual(pixel_values, igrid, tr)
        video_output = m32.visual(pixel_values_videos, vgrid, vtr)
        vision_output64 = m64.visual(pixel_values, igrid)
        video_output64 = m64.visual(pixel_values_videos, vgrid)
        # split sizes t*h*w/4 (get_image_features) then cat again: the scatter order is image 0 then image 1
        split = (igrid.prod(-1) // 4).tolist()
        assert [x.shape[0] for x in torch.split(vision_output, split)] == split

        logits, _, position_ids, rope_delta = run_prompt(m32, input_ids, vision_output, video_output, igrid, vgrid,
                                                         spg)
        logits64, _, pos64, delta64 = run_prompt(m64, input_ids, vision_output64, video_output64, igrid, vgrid, spg)
        assert torch.equal(pos64, position_ids) and delta64 == rope_delta
        pos_float, delta_float = m32.get_rope_index(input_ids[None], igrid, vgrid, spg, float_second_per_grid=True)
        assert torch.equal(pos_float[:, 0], position_ids) and int(delta_float) == rope_delta  # sec = 1.0: both agree

        text_logits, _, text_pos, text_delta = run_prompt(m32, text_ids, None, None, None, None, None)
        assert torch.equal(text_pos, torch.arange(len(text_ids))[None].expand(3, -1)) and text_delta == 0
        text_logits64, _, _, _ = run_prompt(m64, text_ids, None, None, None, None, None)

        g_ids, g_logits, g_pos = greedy_with_cache(m32, input_ids, vision_output, video_output, igrid, vgrid, spg,
                                                   NEW_TOKENS)
        f_ids, f_logits, f_pos = greedy_full_recompute(m32, input_ids, vision_output, video_output, igrid, vgrid, spg,
                                                       NEW_TOKENS)
        assert g_ids == f_ids, "KV-cache greedy ids differ from full recompute"
        kv_diff = float((g_logits - f_logits).abs().max())
        assert kv_diff <= 1e-5, f"KV-cache logits differ from full recompute by {kv_diff}"
        assert torch.equal(f_pos, torch.tensor(g_pos[:-1])[None].expand(3, -1)), "decode positions"
        assert float((g_logits[0] - logits[-1]).abs().max()) == 0.0
        g64_ids, _, _ = greedy_with_cache(m64, input_ids, vision_output64, video_output64, igrid, vgrid, spg,
                                          NEW_TOKENS)

    # independent float64 cross-checks
    ind_vis = independent_vision(cfg, loaded, pixel_values, igrid)
    ind_vid = independent_vision(cfg, loaded, pixel_values_videos, vgrid)
    indep_vision_diff = max(float((ind_vis - vision_output64).abs().max()),
                            float((ind_vid - video_output64).abs().max()))
    assert indep_vision_diff <= 1e-9, f"independent vision differs by {indep_vision_diff}"
    ind_pos, ind_delta = independent_rope_index(cfg, input_ids.tolist(), IMAGE_GRID_THW, VIDEO_GRID_THW,
                                                SECOND_PER_GRID_TS)
    assert torch.equal(ind_pos, position_ids) and ind_delta == rope_delta, "independent rope index differs"
    ind_emb = F.embedding(input_ids, loaded["model.embed_tokens.weight"].double())
    ind_emb[input_ids == TOK["image_pad"]] = ind_vis
    ind_emb[input_ids == TOK["video_pad"]] = ind_vid
    ind_logits = independent_logits(cfg, loaded, ind_emb, ind_pos)
    ind_text = independent_logits(cfg, loaded, F.embedding(text_ids, loaded["model.embed_tokens.weight"].double()),
                                  torch.arange(len(text_ids))[None].expand(3, -1))
    indep_logits_diff = max(float((ind_logits - logits64).abs().max()), float((ind_text - text_logits64).abs().max()))
    assert indep_logits_diff <= 1e-9, f"independent logits differ by {indep_logits_diff}"

    fp64_vision_diff = max(float((vision_output.double() - vision_output64).abs().max()),
                           float((video_output.double() - video_output64).abs().max()))
    fp64_logits_diff = max(float((logits.double() - logits64).abs().max()),
                           float((text_logits.double() - text_logits64).abs().max()))
    top2 = torch.topk(g_logits, 2, dim=-1).values
    greedy_min_margin = float((top2[:, 0] - top2[:, 1]).min())
    distinct = len(set(g_ids))
    max_run = max(len(list(grp)) for _, grp in itertools.groupby(g_ids))
    assert distinct >= 8 and max_run <= 3, f"greedy continuation too repetitive ({distinct}, {max_run})"
    assert greedy_min_margin >= 1e-3, f"greedy path has a near-tie (margin {greedy_min_margin})"
    assert all(t < TOK["vision_start"] for t in g_ids), "greedy continuation contains vision special ids"
    assert float(logits.std()) > 0.5 and float(vision_output.std()) > 0.3, "outputs too small"

    S = input_ids.shape[0]
    ref = {
        "pixel_values": pixel_values,
        "image_grid_thw": igrid,
        "vision_patch_embeds": tr["patch_embeds"].contiguous(),
        "vision_rotary_pos_emb": tr["rotary_pos_emb"].contiguous(),
        "vision_window_index": tr["window_index"],
        "vision_cu_window_seqlens": tr["cu_window_seqlens"],
        "vision_cu_seqlens": tr["cu_seqlens"],
        "vision_blocks_out": tr["blocks_out"].contiguous(),
        "vision_output": vision_output.contiguous(),
        "pixel_values_videos": pixel_values_videos,
        "video_grid_thw": vgrid,
        "second_per_grid_ts": spg,
        "video_window_index": vtr["window_index"],
        "video_cu_window_seqlens": vtr["cu_window_seqlens"],
        "video_cu_seqlens": vtr["cu_seqlens"],
        "video_vision_output": video_output.contiguous(),
        "input_ids": input_ids,
        "position_ids": position_ids.contiguous(),
        "rope_delta": torch.tensor([rope_delta], dtype=torch.int64),
        "logits": logits.contiguous(),
        "text_input_ids": text_ids,
        "text_position_ids": text_pos.contiguous(),
        "text_logits": text_logits.contiguous(),
        "greedy_ids": torch.tensor(g_ids, dtype=torch.int64),
        "greedy_step_logits": g_logits.contiguous(),
    }
    write_safetensors(os.path.join(out_dir, "reference.safetensors"), ref,
                      {"format": "pt", "generator": "tools/parity/make_vl_fixtures.py"})

    def r(x):
        return float(f"{x:.6g}")

    def segments(ids):
        out, i = [], 0
        for tok, grp in itertools.groupby(ids):
            n = len(list(grp))
            out.append({"start": i, "len": n, "token": tok})
            i += n
        return [s for s in out if s["len"] > 1 or s["token"] >= TOK["vision_start"] or s["token"] in
                (TOK["im_start"], TOK["im_end"])]

    meta = {
        "model": NAME,
        "architecture": cfg["architectures"][0],
        "seed": seed,
        "generator": "tools/parity/make_vl_fixtures.py (plain PyTorch, transformers eager code path)",
        "followed_source": FOLLOWED_SOURCE,
        "torch_version": torch.__version__,
        "token_ids": TOK,
        "tensors": {k: {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape)} for k, v in ref.items()},
        "image_grid_thw": IMAGE_GRID_THW,
        "video_grid_thw": VIDEO_GRID_THW,
        "second_per_grid_ts": SECOND_PER_GRID_TS,
        "tokens_per_second": vc["tokens_per_second"],
        "vision_window_index": tr["window_index"].tolist(),
        "vision_cu_window_seqlens": tr["cu_window_seqlens"].tolist(),
        "vision_cu_window_seqlens_before_unique_consecutive": tr["cu_window_seqlens_raw"],
        "vision_cu_seqlens": tr["cu_seqlens"].tolist(),
        "video_window_index": vtr["window_index"].tolist(),
        "video_cu_window_seqlens": vtr["cu_window_seqlens"].tolist(),
        "video_cu_seqlens": vtr["cu_seqlens"].tolist(),
        "vision_blocks_out_note": "hidden state after each vision block, in WINDOW order (rows permuted by "
                                  "window_index at merged-token granularity, as transformers holds them)",
        "input_ids": input_ids.tolist(),
        "input_segments": segments(input_ids.tolist()),
        "position_ids": position_ids.tolist(),
        "rope_delta": rope_delta,
        "text_input_ids": text_ids.tolist(),
        "greedy_ids": g_ids,
        "greedy_ids_fp64": g64_ids,
        "greedy_ids_fp64_equal": g64_ids == g_ids,
        "greedy_decode_positions": g_pos,
        "greedy_note": f"{NEW_TOKENS} greedy (argmax, first index on ties) new tokens after input_ids with the "
                       "images and video; eos ignored; decode step n (0-based, the token at cache_position S+n) uses "
                       "position cache_position + rope_delta on all three streams; greedy_step_logits[n] are the "
                       "logits greedy_ids[n] was chosen from",
        "greedy_distinct_ids": distinct,
        "greedy_longest_run": max_run,
        "greedy_min_top1_top2_margin": r(greedy_min_margin),
        "sequence_length": S,
        "fp64_vs_fp32_max_abs_diff_vision": r(fp64_vision_diff),
        "fp64_vs_fp32_max_abs_diff_logits": r(fp64_logits_diff),
        "independent_fp64_vs_fp64_max_abs_diff_vision": float(f"{indep_vision_diff:.3g}"),
        "independent_fp64_vs_fp64_max_abs_diff_logits": float(f"{indep_logits_diff:.3g}"),
        "kv_cache_vs_full_recompute_max_abs_diff": r(kv_diff),
        "logits_stats": {"min": r(float(logits.min())), "max": r(float(logits.max())),
                         "std": r(float(logits.std())), "sum": r(float(logits.double().sum()))},
        "vision_output_stats": {"std": r(float(vision_output.std())), "sum": r(float(vision_output.double().sum()))},
    }
    with open(os.path.join(out_dir, "reference.json"), "w") as f:
        f.write(json.dumps(meta, indent=2) + "\n")

    size = sum(os.path.getsize(os.path.join(out_dir, fn)) for fn in os.listdir(out_dir))
    assert size < 2 * 1024 * 1024, f"fixture dir is {size} bytes"
    print(f"{NAME}: {size} bytes; S={S}, rope_delta={rope_delta}; fp64-vs-fp32 vision {fp64_vision_diff:.3g} "
          f"logits {fp64_logits_diff:.3g}; indep vision {indep_vision_diff:.3g} logits {indep_logits_diff:.3g}; "
          f"kv-vs-full {kv_diff:.3g}; logits std {float(logits.std()):.3g}; vision std "
          f"{float(vision_output.std()):.3g}; greedy {g_ids} distinct {distinct} margin {greedy_min_margin:.3g} "
          f"fp64 equal {g64_ids == g_ids}")
    return meta


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="output root (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=SEED, help="weight seed (default: %(default)s; inputs use seed + 1)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    build(args.out, args.seed)


if __name__ == "__main__":
    sys.exit(main())
