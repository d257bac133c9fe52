#!/usr/bin/python3
"""Parity fixtures for the Qwen2.5-Omni audio encoder in src/Modalities.Audio (Qwen25OmniAudioTower.cs).

Writes a tiny random-weight checkpoint in the layout of the released Qwen/Qwen2.5-Omni-* model directories and the
reference encoder outputs for committed real recordings:

    tests/Modalities.Audio.Tests/Fixtures/encoder/
        long_1000_u8_9s.wav          the first 9.37 s of audio/long_1000_u8_34s.wav (937 mel frames: 4 full 2-s
                                     chunks and a 137-frame tail whose post-CNN length, 469, is odd)
        qwen25omni-tiny/
            config.json              Qwen2_5OmniConfig: model_type qwen2_5_omni, thinker_config {audio_config,
                                     text_config, token ids, position_id_per_seconds}; audio tower d_model 48,
                                     2 layers, 3 heads, ffn 96, n_window 100, output_dim 64 = text hidden size
            preprocessor_config.json WhisperFeatureExtractor values of the released checkpoints
            model.safetensors        float32: thinker.audio_tower.* (names and shapes as released, including the
                                     unused audio_bos_eos_token), thinker.model.* / thinker.lm_head.* (tiny Qwen2)
            reference.safetensors    per case <id>.input_features [128, L] (the reference features' valid frames;
                                     not stored for the 30-s case) and <id>.output [N, 64]; per prompt
                                     prompt<k>.input_ids (text, <|audio_bos|>, N x <|AUDIO|>, <|audio_eos|>, text)
                                     and prompt<k>.logits [S, 320] of the thinker (see thinker_logits)
            reference.json           per case: file, valid frames L, post-CNN length, token count N, chunk lengths

The reference forward is plain PyTorch following transformers' `Qwen2_5OmniAudioEncoder.forward` (eager attention)
line by line (src/transformers/models/qwen2_5_omni/modeling_qwen2_5_omni.py, v4.5x): chunk lengths of 2*n_window
with the tail `L % (2*n_window)` (or a full chunk), `padded_and_mask_function` (right zero padding to the longest
chunk, a frame mask, a post-CNN mask of `(len-1)//2+1`), `gelu(conv1(x)) * mask`, `gelu(conv2(.))`, the
`SinusoidsPositionEmbedding(max_source_positions, d_model)` buffer added per chunk, the valid rows packed, an
additive `finfo.min` block mask from cu_seqlens, pre-LN layers (LayerNorm eps 1e-5; q/v/out with bias, k without;
scale head_dim**-0.5; softmax fp32; exact-erf GELU), then per audio AvgPool1d(2, 2), ln_post, proj.
Features come from tools/audio/make_audio_fixtures.py's port of librosa.load + WhisperFeatureExtractor.

Self-checks (the script fails otherwise): weights round-trip through the safetensors writer/reader; one batched
forward over all audios equals the per-audio forwards; an independent float64 implementation (each chunk on its
own, no masks or padding, explicit convolution windows, pooling by explicit pairs) equals the port run in float64;
the float32 sinusoid buffer both use equals the float64 formula (math.sin/cos) to float32 argument precision.

Run with Debian's packages:   /usr/bin/python3 tools/audio/make_audio_encoder_fixtures.py
(python3-numpy python3-torch python3-soundfile libsoxr0). Deterministic: fixed seed, single thread, CPU.
"""
import json
import math
import os
import sys
import wave

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "parity"))
import make_audio_fixtures as audio_ref  # noqa: E402  (librosa.load + WhisperFeatureExtractor ports)
from make_text_fixtures import hf_json, read_safetensors, write_safetensors  # noqa: E402

REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
FIXTURES = os.path.join(REPO, "tests", "Modalities.Audio.Tests", "Fixtures")
OUT = os.path.join(FIXTURES, "encoder")
NAME = "qwen25omni-tiny"
SEED = 7007
CROP_FRAMES = 9370  # of the 1-kHz recording: 9.37 s -> 149,920 samples at 16 kHz -> 937 mel frames

AUDIO = dict(num_mel_bins=128, d_model=48, encoder_layers=2, encoder_attention_heads=3, encoder_ffn_dim=96,
             activation_function="gelu", scale_embedding=False, max_source_positions=1500, n_window=100,
             output_dim=64)
TEXT = dict(vocab_size=320, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2)
# token ids keep the real vocabulary's relative layout (151643 <|endoftext|> ... 151646 <|AUDIO|>, 151647
# <|audio_bos|>, 151648 <|audio_eos|>, 151652 <|vision_bos|>, 151653 <|vision_eos|>, 151655 <|IMAGE|>, 151656 <|VIDEO|>)
TOK = dict(endoftext=290, im_start=291, im_end=292, audio=293, audio_bos=294, audio_eos=295, vision_bos=299,
           vision_eos=300, image=302, video=303)

# (case id, file under Fixtures/, store the input features)
CASES = [
    ("tone_48000_f32", "audio/tone_48000_f32.wav", True),                       # L 15: one short chunk
    ("speech_tone_24000_s24_stereo", "audio/speech_tone_24000_s24_stereo.wav", True),  # L 40
    ("speech_22050_s16", "audio/speech_22050_s16.wav", True),                   # L 100
    ("speech_16000_flac", "audio/speech_16000.flac", True),                # L 120
    ("long_1000_u8_9s", "encoder/long_1000_u8_9s.wav", True),                   # L 937: 4 x 200 + 137
    ("long_1000_u8_34s", "audio/long_1000_u8_34s.wav", False),                  # L 3000: 15 x 200, 750 tokens
]


def make_config():
    text = dict(TEXT, model_type="qwen2_5_omni_text", hidden_act="silu", max_position_embeddings=32768,
                rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=False, use_sliding_window=False,
                sliding_window=32768, max_window_layers=TEXT["num_hidden_layers"], attention_dropout=0.0,
                rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]}, torch_dtype="float32")
    audio = dict(AUDIO, model_type="qwen2_5_omni_audio_encoder", d_model=AUDIO["d_model"], dropout=0.0,
                 attention_dropout=0.0, activation_dropout=0.0, encoder_layerdrop=0.0, init_std=0.02,
                 torch_dtype="float32")
    thinker = {
        "model_type": "qwen2_5_omni_thinker",
        "architectures": ["Qwen2_5OmniThinkerForConditionalGeneration"],
        "audio_config": audio,
        "text_config": text,
        "audio_token_index": TOK["audio"], "image_token_index": TOK["image"], "video_token_index": TOK["video"],
        "audio_start_token_id": TOK["audio_bos"], "audio_end_token_id": TOK["audio_eos"],
        "vision_start_token_id": TOK["vision_bos"], "vision_end_token_id": TOK["vision_eos"],
        "bos_token_id": TOK["endoftext"], "eos_token_id": TOK["im_end"], "pad_token_id": TOK["endoftext"],
        "position_id_per_seconds": 25, "seconds_per_chunk": 2, "user_token_id": 872,
        "torch_dtype": "float32",
    }
    return {"architectures": ["Qwen2_5OmniModel"], "model_type": "qwen2_5_omni", "enable_audio_output": False,
            "thinker_config": thinker, "torch_dtype": "float32"}


def make_preprocessor_config():
    return {"feature_extractor_type": "WhisperFeatureExtractor", "feature_size": 128, "sampling_rate": 16000,
            "hop_length": 160, "n_fft": 400, "chunk_length": 30, "n_samples": 480000, "nb_max_frames": 3000,
            "padding_side": "right", "padding_value": 0.0, "return_attention_mask": True, "dither": 0.0,
            "processor_class": "Qwen2_5OmniProcessor"}


def init_weights(seed):
    g = torch.Generator().manual_seed(seed)
    W = {}

    def normal(name, *shape, std, mean=0.0):
        W[name] = (torch.randn(*shape, generator=g, dtype=torch.float32) * std + mean).contiguous()

    a, d, f, m, o = "thinker.audio_tower.", AUDIO["d_model"], AUDIO["encoder_ffn_dim"], AUDIO["num_mel_bins"], AUDIO["output_dim"]
    normal(a + "conv1.weight", d, m, 3, std=0.05)
    normal(a + "conv1.bias", d, std=0.1)
    normal(a + "conv2.weight", d, d, 3, std=0.08)
    normal(a + "conv2.bias", d, std=0.1)
    for i in range(AUDIO["encoder_layers"]):
        p = f"{a}layers.{i}."
        normal(p + "self_attn.k_proj.weight", d, d, std=0.15)
        normal(p + "self_attn.v_proj.weight", d, d, std=0.15)
        normal(p + "self_attn.v_proj.bias", d, std=0.1)
        normal(p + "self_attn.q_proj.weight", d, d, std=0.15)
        normal(p + "self_attn.q_proj.bias", d, std=0.1)
        normal(p + "self_attn.out_proj.weight", d, d, std=0.15)
        normal(p + "self_attn.out_proj.bias", d, std=0.1)
        normal(p + "self_attn_layer_norm.weight", d, std=0.1, mean=1.0)
        normal(p + "self_attn_layer_norm.bias", d, std=0.1)
        normal(p + "fc1.weight", f, d, std=0.15)
        normal(p + "fc1.bias", f, std=0.1)
        normal(p + "fc2.weight", d, f, std=0.1)
        normal(p + "fc2.bias", d, std=0.1)
        normal(p + "final_layer_norm.weight", d, std=0.1, mean=1.0)
        normal(p + "final_layer_norm.bias", d, std=0.1)
    normal(a + "ln_post.weight", d, std=0.1, mean=1.0)
    normal(a + "ln_post.bias", d, std=0.1)
    normal(a + "proj.weight", o, d, std=0.15)
    normal(a + "proj.bias", o, std=0.1)
    normal(a + "audio_bos_eos_token.weight", 2, o, std=0.5)

    D, I, V = TEXT["hidden_size"], TEXT["intermediate_size"], TEXT["vocab_size"]
    hd = D // TEXT["num_attention_heads"]
    kv = TEXT["num_key_value_heads"] * hd
    normal("thinker.model.embed_tokens.weight", V, D, std=0.5)
    for i in range(TEXT["num_hidden_layers"]):
        p = f"thinker.model.layers.{i}."
        normal(p + "input_layernorm.weight", D, std=0.1, mean=1.0)
        normal(p + "self_attn.q_proj.weight", D, D, std=0.1)
        normal(p + "self_attn.q_proj.bias", D, std=0.1)
        normal(p + "self_attn.k_proj.weight", kv, D, std=0.1)
        normal(p + "self_attn.k_proj.bias", kv, std=0.1)
        normal(p + "self_attn.v_proj.weight", kv, D, std=0.1)
        normal(p + "self_attn.v_proj.bias", kv, std=0.1)
        normal(p + "self_attn.o_proj.weight", D, D, std=0.1)
        normal(p + "post_attention_layernorm.weight", D, std=0.1, mean=1.0)
        normal(p + "mlp.gate_proj.weight", I, D, std=0.1)
        normal(p + "mlp.up_proj.weight", I, D, std=0.1)
        normal(p + "mlp.down_proj.weight", D, I, std=0.1)
    normal("thinker.model.norm.weight", D, std=0.1, mean=1.0)
    normal("thinker.lm_head.weight", V, D, std=0.1)
    return W


# ---------------------------------------------------------------------------------------------------------------
# Port of transformers Qwen2_5OmniAudioEncoder (eager attention).
# ---------------------------------------------------------------------------------------------------------------
class AudioEncoder:
    def __init__(self, cfg, weights, dtype):
        self.cfg = cfg
        self.dtype = dtype
        self.W = {k[len("thinker.audio_tower."):]: v.to(dtype) for k, v in weights.items()
                  if k.startswith("thinker.audio_tower.")}
        self.n_window = cfg["n_window"]
        # SinusoidsPositionEmbedding(max_source_positions, d_model): a float32 buffer, cast to the hidden dtype on use
        channels, length = cfg["d_model"], cfg["max_source_positions"]
        log_timescale_increment = np.log(10000) / (channels // 2 - 1)
        inv_timescales = torch.exp(-log_timescale_increment * torch.arange(channels // 2).float())
        scaled_time = torch.arange(length)[:, np.newaxis] * inv_timescales[np.newaxis, :]
        self.positional_embedding = torch.cat([torch.sin(scaled_time), torch.cos(scaled_time)], dim=1)

    def linear(self, x, name, bias=True):
        return F.linear(x, self.W[name + ".weight"], self.W[name + ".bias"] if bias else None)

    def layer_norm(self, x, name):
        return F.layer_norm(x, (x.shape[-1],), self.W[name + ".weight"], self.W[name + ".bias"], 1e-5)

    def padded_and_mask_function(self, tensor_list, tensor_len, padding_value=0):
        max_len = tensor_len.max()
        dim = tensor_list[0].shape[0]
        padded_tensor = torch.full((len(tensor_list), dim, max_len), padding_value, dtype=self.dtype)
        batch_mask = torch.zeros((len(tensor_len), max_len), dtype=torch.long)
        for i, length in enumerate(tensor_len):
            batch_mask[i, :length] = 1
            padded_tensor[i, :, :length] = tensor_list[i]
        feature_lens_after_cnn = (tensor_len - 1) // 2 + 1
        max_len_after_cnn = feature_lens_after_cnn.max()
        batch_mask_after_cnn = torch.zeros((len(tensor_len), max_len_after_cnn), dtype=torch.long)
        for i, length in enumerate(feature_lens_after_cnn):
            batch_mask_after_cnn[i, :length] = 1
        return padded_tensor, batch_mask.unsqueeze(1), batch_mask_after_cnn.bool()

    def attention(self, x, i, attention_mask):
        n = x.shape[0]
        heads = self.cfg["encoder_attention_heads"]
        hd = self.cfg["d_model"] // heads
        p = f"layers.{i}.self_attn."
        q = self.linear(x, p + "q_proj").reshape(n, heads, -1).transpose(0, 1).unsqueeze(0)
        k = self.linear(x, p + "k_proj", bias=False).reshape(n, heads, -1).transpose(0, 1).unsqueeze(0)
        v = self.linear(x, p + "v_proj").reshape(n, heads, -1).transpose(0, 1).unsqueeze(0)
        w = torch.matmul(q, k.transpose(2, 3)) * hd ** -0.5
        w = w + attention_mask[:, :, :, : k.shape[-2]]
        w = F.softmax(w, dim=-1, dtype=torch.float32).to(q.dtype)
        out = torch.matmul(w, v).transpose(1, 2).contiguous()
        return self.linear(out.reshape(n, -1).contiguous(), p + "out_proj")

    def forward(self, input_features, feature_lens, aftercnn_lens, trace=None):
        n2 = self.n_window * 2
        chunk_num = torch.ceil(feature_lens / n2).long()
        chunk_lengths = torch.tensor([n2] * chunk_num.sum(), dtype=torch.long)
        tail_chunk_index = F.pad(chunk_num, (1, 0), value=-1).cumsum(0)[1:]
        chunk_lengths[tail_chunk_index] = feature_lens % n2
        chunk_lengths = torch.where(chunk_lengths == 0, n2, chunk_lengths)
        chunk_list = input_features.split(chunk_lengths.tolist(), dim=1)
        padded_feature, padded_mask, padded_mask_after_cnn = self.padded_and_mask_function(chunk_list, chunk_lengths)
        h = F.gelu(F.conv1d(padded_feature, self.W["conv1.weight"], self.W["conv1.bias"], padding=1)) * padded_mask
        h = F.gelu(F.conv1d(h, self.W["conv2.weight"], self.W["conv2.bias"], stride=2, padding=1)).transpose(1, 2)
        h = h + self.positional_embedding[: h.shape[1], :].unsqueeze(0).to(h.dtype)
        hidden = h[padded_mask_after_cnn]
        cu_seqlens = torch.cat((torch.zeros(1, dtype=torch.int32), padded_mask_after_cnn.sum(1).cumsum(0))).to(torch.int32)
        seq = hidden.shape[0]
        mask = torch.full([1, 1, seq, seq], torch.finfo(hidden.dtype).min, dtype=hidden.dtype)
        for i in range(1, len(cu_seqlens)):
            mask[..., cu_seqlens[i - 1]: cu_seqlens[i], cu_seqlens[i - 1]: cu_seqlens[i]] = 0
        if trace is not None:
            trace["chunk_lengths"] = chunk_lengths.tolist()
            trace["cu_seqlens"] = cu_seqlens.tolist()
        for i in range(self.cfg["encoder_layers"]):
            p = f"layers.{i}."
            residual = hidden
            hidden = residual + self.attention(self.layer_norm(hidden, p + "self_attn_layer_norm"), i, mask)
            residual = hidden
            x = self.layer_norm(hidden, p + "final_layer_norm")
            x = self.linear(F.gelu(self.linear(x, p + "fc1")), p + "fc2")
            hidden = residual + x
        outs = []
        for each in hidden.split(aftercnn_lens.tolist(), dim=0):
            each = F.avg_pool1d(each.transpose(0, 1), 2, stride=2).transpose_(0, 1)
            each = self.layer_norm(each, "ln_post")
            outs.append(self.linear(each, "proj"))
        return torch.cat(outs, dim=0)


def encode(enc, features_list, trace=None):
    """The thinker's get_audio_features for a batch: valid frames concatenated, lengths from the masks."""
    lens = torch.tensor([f.shape[1] for f in features_list], dtype=torch.long)
    aftercnn = (lens - 1) // 2 + 1
    x = torch.cat([f.to(enc.dtype) for f in features_list], dim=1)
    return enc.forward(x, lens, aftercnn, trace)


def sinusoid_table_float64(cfg):
    half = cfg["d_model"] // 2
    inc = math.log(10000) / (half - 1)
    return torch.tensor([[math.sin(t * math.exp(-inc * j)) for j in range(half)] +
                         [math.cos(t * math.exp(-inc * j)) for j in range(half)]
                         for t in range(cfg["max_source_positions"])], dtype=torch.float64)


def independent_encode(cfg, W, features, table):
    """float64, one chunk at a time, no masks or padding: checks the port's chunk and mask bookkeeping. `table` is
    the float32 sinusoid buffer (checked against sinusoid_table_float64 separately)."""
    W = {k[len("thinker.audio_tower."):]: v.double() for k, v in W.items() if k.startswith("thinker.audio_tower.")}
    d, heads = cfg["d_model"], cfg["encoder_attention_heads"]
    hd = d // heads
    x = features.double()
    L = x.shape[1]
    chunks = [x[:, s:s + 2 * cfg["n_window"]] for s in range(0, L, 2 * cfg["n_window"])]

    def ln(z, name):
        mu = z.mean(-1, keepdim=True)
        var = ((z - mu) ** 2).mean(-1, keepdim=True)
        return (z - mu) / torch.sqrt(var + 1e-5) * W[name + ".weight"] + W[name + ".bias"]

    def gelu(z):
        return 0.5 * z * (1.0 + torch.erf(z / math.sqrt(2.0)))

    def conv(z, name, stride):  # z [C, T], kernel 3, zero padding 1
        w, b = W[name + ".weight"], W[name + ".bias"]
        T = z.shape[1]
        zp = torch.cat([torch.zeros(z.shape[0], 1, dtype=z.dtype), z, torch.zeros(z.shape[0], 1, dtype=z.dtype)], 1)
        cols = [(zp[:, t:t + 3] * 1.0) for t in range(0, T, stride)]
        return torch.stack([torch.einsum("oik,ik->o", w, c) + b for c in cols], 1)

    outs = []
    for c in chunks:
        h = gelu(conv(gelu(conv(c, "conv1", 1)), "conv2", 2)).T       # [T', d]
        h = h + table[: h.shape[0]].double()
        for i in range(cfg["encoder_layers"]):
            p = f"layers.{i}."
            z = ln(h, p + "self_attn_layer_norm")
            q = (z @ W[p + "self_attn.q_proj.weight"].T + W[p + "self_attn.q_proj.bias"]).view(-1, heads, hd)
            k = (z @ W[p + "self_attn.k_proj.weight"].T).view(-1, heads, hd)
            v = (z @ W[p + "self_attn.v_proj.weight"].T + W[p + "self_attn.v_proj.bias"]).view(-1, heads, hd)
            s = torch.einsum("qhd,khd->hqk", q, k) / math.sqrt(hd)
            probs = torch.softmax(s.float(), -1).double()  # eager_attention_forward's softmax is float32 for any dtype
            a = torch.einsum("hqk,khd->qhd", probs, v).reshape(-1, d)
            h = h + a @ W[p + "self_attn.out_proj.weight"].T + W[p + "self_attn.out_proj.bias"]
            z = ln(h, p + "final_layer_norm")
            h = h + gelu(z @ W[p + "fc1.weight"].T + W[p + "fc1.bias"]) @ W[p + "fc2.weight"].T + W[p + "fc2.bias"]
        outs.append(h)
    h = torch.cat(outs, 0)
    pairs = h.shape[0] // 2
    pooled = torch.stack([(h[2 * i] + h[2 * i + 1]) / 2 for i in range(pairs)]) if pairs else h[:0]
    return ln(pooled, "ln_post") @ W["proj.weight"].T + W["proj.bias"]


# ---------------------------------------------------------------------------------------------------------------
# Port of the thinker's text path for an audio-only prompt (Qwen2_5OmniThinkerForConditionalGeneration.forward):
# embed_tokens, audio features masked_scatter-ed over the <|AUDIO|> rows, get_rope_index's audio/text-only branch
# (no image/video grid: position_ids = cumsum(attention_mask) - 1 on all three streams, rope_delta 0), Qwen2 decoder
# layers (q/k/v bias, GQA via repeat_kv, eager attention with an additive finfo.min causal mask, softmax fp32),
# RMSNorm eps 1e-6 with fp32 statistics, M-RoPE (mrope_section * 2 chunks, chunk k takes stream k % 3), lm_head.
# ---------------------------------------------------------------------------------------------------------------
def thinker_logits(config, W, input_ids, audio_embeds):
    tc, th = config["thinker_config"]["text_config"], config["thinker_config"]
    D, H, KV = tc["hidden_size"], tc["num_attention_heads"], tc["num_key_value_heads"]
    hd = D // H
    S = input_ids.shape[0]
    x = W["thinker.model.embed_tokens.weight"][input_ids].clone()
    audio_mask = input_ids == th["audio_token_index"]
    assert int(audio_mask.sum()) == audio_embeds.shape[0]
    x = x.masked_scatter(audio_mask.unsqueeze(-1).expand_as(x), audio_embeds.to(x.dtype))
    position_ids = (torch.ones(S, dtype=torch.long).cumsum(-1) - 1).view(1, 1, S).expand(3, 1, S)
    inv_freq = 1.0 / (tc["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    freqs = (inv_freq[None, None, :, None].expand(3, 1, -1, 1) @ position_ids[:, :, None, :].float()).transpose(2, 3)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()                                  # [3, 1, S, hd]
    section = tc["rope_scaling"]["mrope_section"] * 2
    cos = torch.cat([m[i % 3] for i, m in enumerate(cos.split(section, dim=-1))], dim=-1).unsqueeze(1)
    sin = torch.cat([m[i % 3] for i, m in enumerate(sin.split(section, dim=-1))], dim=-1).unsqueeze(1)

    def rms(z, w):
        v = z.float().pow(2).mean(-1, keepdim=True)
        return w * (z.float() * torch.rsqrt(v + tc["rms_norm_eps"])).to(z.dtype)

    def rot(z):
        return torch.cat((-z[..., z.shape[-1] // 2:], z[..., : z.shape[-1] // 2]), dim=-1)

    mask = torch.full((S, S), torch.finfo(torch.float32).min).triu(1)[None, None]
    h = x.unsqueeze(0)
    for i in range(tc["num_hidden_layers"]):
        p = f"thinker.model.layers.{i}."
        r = h
        z = rms(h, W[p + "input_layernorm.weight"])
        q = F.linear(z, W[p + "self_attn.q_proj.weight"], W[p + "self_attn.q_proj.bias"]).view(1, S, H, hd).transpose(1, 2)
        k = F.linear(z, W[p + "self_attn.k_proj.weight"], W[p + "self_attn.k_proj.bias"]).view(1, S, KV, hd).transpose(1, 2)
        v = F.linear(z, W[p + "self_attn.v_proj.weight"], W[p + "self_attn.v_proj.bias"]).view(1, S, KV, hd).transpose(1, 2)
        q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        w = torch.matmul(q, k.transpose(2, 3)) * hd ** -0.5 + mask
        w = F.softmax(w, dim=-1, dtype=torch.float32).to(q.dtype)
        a = torch.matmul(w, v).transpose(1, 2).reshape(1, S, D)
        h = r + F.linear(a, W[p + "self_attn.o_proj.weight"])
        r = h
        z = rms(h, W[p + "post_attention_layernorm.weight"])
        h = r + F.linear(F.silu(F.linear(z, W[p + "mlp.gate_proj.weight"])) * F.linear(z, W[p + "mlp.up_proj.weight"]),
                         W[p + "mlp.down_proj.weight"])
    h = rms(h, W["thinker.model.norm.weight"])
    return F.linear(h, W["thinker.lm_head.weight"])[0]


# (case whose audio is spliced in, text ids before, text ids after)
PROMPTS = [("speech_22050_s16", [TOK["im_start"], 17, 99, 4, 250, 31], [77, 8, 140, TOK["im_end"]]),
           ("tone_48000_f32", [TOK["im_start"], 5, 200], [61, 2, 189, 13, 44, TOK["im_end"]])]


def crop_recording():
    src = os.path.join(FIXTURES, "audio", "long_1000_u8_34s.wav")
    dst = os.path.join(OUT, "long_1000_u8_9s.wav")
    with wave.open(src, "rb") as r:
        params = r.getparams()
        data = r.readframes(CROP_FRAMES)
    with wave.open(dst, "wb") as w:
        w.setparams(params)
        w.writeframes(data)


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model_dir = os.path.join(OUT, NAME)
    os.makedirs(model_dir, exist_ok=True)
    crop_recording()

    config = make_config()
    with open(os.path.join(model_dir, "config.json"), "w") as f:
        f.write(hf_json(config))
    with open(os.path.join(model_dir, "preprocessor_config.json"), "w") as f:
        f.write(hf_json(make_preprocessor_config()))
    with open(os.path.join(model_dir, "generation_config.json"), "w") as f:
        f.write(hf_json({"bos_token_id": TOK["endoftext"], "eos_token_id": TOK["im_end"], "do_sample": False}))

    weights = init_weights(SEED)
    write_safetensors(os.path.join(model_dir, "model.safetensors"), weights, {"format": "pt"})
    loaded = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    assert sorted(loaded) == sorted(weights) and all(torch.equal(loaded[k], weights[k]) for k in weights)

    cfg = config["thinker_config"]["audio_config"]
    enc32 = AudioEncoder(cfg, weights, torch.float32)
    enc64 = AudioEncoder(cfg, weights, torch.float64)
    d_table = (enc32.positional_embedding.double() - sinusoid_table_float64(cfg)).abs().max().item()
    assert d_table < 2e-4, d_table  # float32 arguments t * inv_timescale up to t = 1499
    print(f"float32 sinusoid table vs float64 formula: {d_table:.1e}")
    ref, meta, feats = {}, {"seed": SEED, "followed": "transformers Qwen2_5OmniAudioEncoder.forward (eager), "
                           "src/transformers/models/qwen2_5_omni/modeling_qwen2_5_omni.py v4.5x",
                           "torch": torch.__version__, "sinusoid_table_vs_float64": d_table, "cases": []}, []
    for case_id, rel, store in CASES:
        y, _, _, _ = audio_ref.librosa_load(os.path.join(FIXTURES, rel))
        features, mask = audio_ref.whisper_features(y)
        L = int(mask.sum())
        x = torch.from_numpy(features[:, :L].copy())
        trace = {}
        out = encode(enc32, [x], trace)
        after = (L - 1) // 2 + 1
        n_tokens = (after - 2) // 2 + 1
        assert out.shape == (n_tokens, cfg["output_dim"]), (case_id, out.shape)
        out64 = encode(enc64, [x.double()])
        ind = independent_encode(cfg, weights, x, enc32.positional_embedding)
        d_ind = (out64 - ind).abs().max().item()
        d_32 = (out.double() - out64).abs().max().item()
        assert d_ind < 1e-9, (case_id, d_ind)
        assert d_32 < 1e-4, (case_id, d_32)
        if store:
            ref[case_id + ".input_features"] = x
        ref[case_id + ".output"] = out
        feats.append(x)
        meta["cases"].append({"id": case_id, "file": rel, "valid_frames": L, "after_cnn": after, "tokens": n_tokens,
                              "chunk_lengths": trace["chunk_lengths"], "features_stored": store,
                              "fp32_vs_fp64": d_32, "port_vs_independent_fp64": d_ind,
                              "output_abs_mean": out.abs().mean().item()})
        print(f"{case_id:30s} L {L:5d} -> {after:4d} -> {n_tokens:4d} tokens, chunks {trace['chunk_lengths'][:3]}..."
              f" fp32-fp64 {d_32:.1e}, port-independent {d_ind:.1e}")

    batched = encode(enc32, feats)
    singles = torch.cat([ref[c + ".output"] for c, _, _ in CASES], 0)
    d_batch = (batched - singles).abs().max().item()
    assert d_batch < 1e-5, d_batch
    meta["batched_vs_single"] = d_batch
    print(f"batched forward over all audios vs one at a time: {d_batch:.1e}")

    meta["prompts"] = []
    for k, (case_id, before, after) in enumerate(PROMPTS):
        audio = ref[case_id + ".output"]
        n = audio.shape[0]
        ids = torch.tensor(before + [TOK["audio_bos"]] + [TOK["audio"]] * n + [TOK["audio_eos"]] + after, dtype=torch.long)
        logits = thinker_logits(config, weights, ids, audio)
        ref[f"prompt{k}.input_ids"] = ids
        ref[f"prompt{k}.logits"] = logits
        meta["prompts"].append({"audio": case_id, "tokens": ids.shape[0], "audio_tokens": n,
                                "greedy_next": int(logits[-1].argmax())})
        print(f"prompt {k}: {ids.shape[0]} tokens ({n} audio), logits {tuple(logits.shape)}")

    write_safetensors(os.path.join(model_dir, "reference.safetensors"), ref, {"format": "pt"})
    with open(os.path.join(model_dir, "reference.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
