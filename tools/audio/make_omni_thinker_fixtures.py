#!/usr/bin/python3
"""End-to-end parity fixtures for the Qwen2.5-Omni thinker: prompts with audio (and an image) through the host.

Writes a tiny random-weight Qwen2.5-Omni thinker checkpoint in the released layout, with a tokenizer, and the
reference logits of chat prompts that carry audio, audio + image, or only text:

    tests/JudgeHost.Tests/Fixtures/parity/qwen25omni-tiny/
        config.json              Qwen2_5OmniConfig: model_type qwen2_5_omni, thinker_config {audio_config (d_model 48,
                                 2 layers), vision_config (depth 2, hidden 32, split q/k/v, window 112, full block 1),
                                 text_config (Qwen2, vocab 320, hidden 64, M-RoPE [2, 3, 3]), token ids,
                                 position_id_per_seconds 25, seconds_per_chunk 2}
        preprocessor_config.json the released file's merged WhisperFeatureExtractor + Qwen2VLImageProcessor values
        generation_config.json
        tokenizer.json           byte-level BPE without merges (byte b = id b) and the Omni special tokens at 290-303,
                                 the real vocabulary's relative layout (151643 <|endoftext|> ... 151656 <|VIDEO|>)
        tokenizer_config.json    the released Omni chat template (default system "You are a helpful assistant.")
        model.safetensors        float32 thinker.model.* / thinker.lm_head.weight / thinker.audio_tower.* (as
                                 make_audio_encoder_fixtures.py makes them) / thinker.visual.* (attn.q, attn.k, attn.v)
        image_168x112.png        the image of the audio + image prompt (no resize: 168x112 is a multiple of 28)
        reference.safetensors    per prompt <name>.input_ids [S], <name>.position_ids [3, S], <name>.rope_delta [1],
                                 <name>.logits [S, 320]; <name>.greedy_ids [8] (eos ignored) for "audio_image";
                                 image.vision_output [24, 64] (the Omni vision tower on the PNG), audio.tower_output
                                 [25, 64] (the audio tower on the recording)
        reference.json           prompts, texts, token counts, positions of the media, greedy margins

What the host must do for these prompts (the `judgehost inspect logits / generate --audio A [--image I] --prompt P
--chat` path): render the chat with the Omni template, put each item's framing (<|vision_bos|> ... <|vision_eos|>,
<|audio_bos|> ... <|audio_eos|>) around its embeddings, encode the audio (librosa.load + WhisperFeatureExtractor +
Qwen2_5OmniAudioEncoder) and the image (Qwen2VLImageProcessor + the Omni vision tower), and build the thinker's
3-row positions exactly as `Qwen2_5OmniPreTrainedModelForConditionalGeneration.get_rope_index` does.

The reference follows transformers' src/transformers/models/qwen2_5_omni/modeling_qwen2_5_omni.py (v4.5x-5.0):
  * get_rope_index: without image/video grids, positions = cumsum(attention_mask) - 1 on all three streams; with
    them, the token walk: text runs consecutive, <|audio_bos|> / N audio tokens / <|audio_eos|> consecutive
    (N = ((L - 1)//2 + 1 - 2)//2 + 1 from the feature mask), images (t = arange(grid_t) * position_id_per_seconds, h,
    w merged-grid indices) + start, <|vision_eos|> at max + 1; rope_delta = max + 1 - S;
  * the thinker's forward: embed_tokens, audio features masked_scatter-ed over <|AUDIO|>, image features over
    <|IMAGE|>, Qwen2 decoder with M-RoPE (mrope_section * 2 chunks, chunk k from stream k % 3), lm_head;
  * the vision tower = Qwen2.5-VL's (tools/parity/make_vl_fixtures.py RefVL) with Qwen2_5OmniVisionAttention's
    separate q, k, v linears;
  * the audio tower and features = tools/audio/make_audio_encoder_fixtures.py / make_audio_fixtures.py;
  * the image preprocessing = tools/vision/make_image_fixtures.py (HF's slow Qwen2VLImageProcessor).

Self-checks (the script fails otherwise): weights round-trip; the walk's audio positions equal the 1-D positions for
the audio-only prompt; the audio-only logits equal make_audio_encoder_fixtures.thinker_logits (an independent
decoder); fp64 vs fp32 of the whole forward is small; greedy decoding by full recompute has top1-top2 margins
>= 1e-3; decode positions of the continuation equal cache_position + rope_delta.

Run with Debian's packages:   /usr/bin/python3 tools/audio/make_omni_thinker_fixtures.py
(python3-numpy python3-torch python3-soundfile python3-pil libsoxr0). Deterministic: fixed seeds, one thread, CPU.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tools", "parity"))
sys.path.insert(0, os.path.join(REPO, "tools", "vision"))
import make_audio_encoder_fixtures as enc_fix  # noqa: E402  (audio tower port, tiny audio/text weights)
import make_audio_fixtures as audio_ref  # noqa: E402  (librosa.load + WhisperFeatureExtractor ports)
import make_image_fixtures as image_ref  # noqa: E402  (Qwen2VLImageProcessor slow path, synthetic content)
import make_vl_fixtures as vl  # noqa: E402  (Qwen2.5-VL vision tower and M-RoPE decoder ports)
from make_text_fixtures import hf_json, read_safetensors, rotate_half, write_safetensors  # noqa: E402

OUT = os.path.join(REPO, "tests", "JudgeHost.Tests", "Fixtures", "parity", "qwen25omni-tiny")
AUDIO_FILE = "tests/Modalities.Audio.Tests/Fixtures/audio/speech_22050_s16.wav"
IMAGE_NAME = "image_168x112.png"
SEED = 7107
VISION_SEED = 7108
TOK = enc_fix.TOK
VISION = dict(depth=2, hidden_size=32, embed_dim=32, intermediate_size=64, num_heads=2, patch_size=14,
              spatial_patch_size=14, temporal_patch_size=2, spatial_merge_size=2, window_size=112,
              fullatt_block_indexes=[1], out_hidden_size=enc_fix.TEXT["hidden_size"], hidden_act="silu",
              in_channels=3, in_chans=3, tokens_per_second=25, model_type="qwen2_5_omni_vision_encoder")
SPECIALS = [(290, "<|endoftext|>"), (291, "<|im_start|>"), (292, "<|im_end|>"), (293, "<|AUDIO|>"),
            (294, "<|audio_bos|>"), (295, "<|audio_eos|>"), (296, "<|box_end|>"), (297, "<|quad_start|>"),
            (298, "<|quad_end|>"), (299, "<|vision_bos|>"), (300, "<|vision_eos|>"), (301, "<|vision_pad|>"),
            (302, "<|IMAGE|>"), (303, "<|VIDEO|>")]
SYSTEM_DEFAULT = "You are a helpful assistant."
# The released Qwen2.5-Omni tokenizer_config.json chat_template.
CHAT_TEMPLATE = (
    "{% set audio_count = namespace(value=0) %}{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}<|vision_bos|><|IMAGE|><|vision_eos|>"
    "{% elif content['type'] == 'audio' or 'audio' in content or 'audio_url' in content %}{% set audio_count.value = audio_count.value + 1 %}"
    "{% if add_audio_id %}Audio {{ audio_count.value }}: {% endif %}<|audio_bos|><|AUDIO|><|audio_eos|>"
    "{% elif content['type'] == 'video' or 'video' in content %}{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}<|vision_bos|><|VIDEO|><|vision_eos|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
GREEDY_TOKENS = 8
# (name, media in the order the host places them before the prompt text, prompt text)
PROMPTS = [("audio", ["audio"], "Rate this audio from 1 to 5."),
           ("audio_image", ["image", "audio"], "Does the speech match the picture?"),
           ("text", [], "Hello, judge.")]


# ---------------------------------------------------------------------------------------------------------------
# Checkpoint files
# ---------------------------------------------------------------------------------------------------------------
def make_config():
    config = enc_fix.make_config()
    config["thinker_config"]["vision_config"] = dict(VISION)
    return config


def make_preprocessor_config():
    merged = enc_fix.make_preprocessor_config()
    merged.update({"image_processor_type": "Qwen2VLImageProcessor", "min_pixels": image_ref.CHECKPOINT_MIN_PIXELS,
                   "max_pixels": image_ref.CHECKPOINT_MAX_PIXELS, "patch_size": 14, "temporal_patch_size": 2,
                   "merge_size": 2, "image_mean": image_ref.OPENAI_CLIP_MEAN, "image_std": image_ref.OPENAI_CLIP_STD,
                   "do_resize": True, "do_rescale": True, "do_normalize": True, "rescale_factor": 1 / 255,
                   "resample": 3})
    return merged


def bytes_to_unicode():
    """GPT-2's byte-level alphabet (tokenizers' ByteLevel pre-tokenizer)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def make_tokenizer():
    """tokenizer.json: the Qwen2 pre-tokenizer / decoder layout, a BPE whose vocabulary is the 256 byte symbols (no
    merges, so byte b is id b) plus 34 unreachable filler entries, and the specials as added tokens."""
    alphabet = bytes_to_unicode()
    vocab = {alphabet[b]: b for b in range(256)}
    for i in range(256, 290):
        vocab[f"<unused{i}>"] = i
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for i, c in SPECIALS],
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"},
             "behavior": "Isolated", "invert": False}, byte_level]},
        "post_processor": byte_level, "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": []},
    }
    config = {
        "add_bos_token": False, "add_prefix_space": False, "bos_token": None, "chat_template": CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False, "eos_token": "<|im_end|>", "errors": "replace",
        "model_max_length": 32768, "pad_token": "<|endoftext|>", "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer", "unk_token": None,
        "additional_special_tokens": [c for _, c in SPECIALS[1:]],
        "added_tokens_decoder": {str(i): {"content": c, "lstrip": False, "normalized": False, "rstrip": False,
                                          "single_word": False, "special": True} for i, c in SPECIALS},
    }
    return tokenizer, config


def tokenize(text):
    """The tiny tokenizer: special tokens split the text, every other byte is its own id."""
    ids, i = [], 0
    specials = {c: t for t, c in SPECIALS}
    while i < len(text):
        hit = next((c for c in specials if text.startswith(c, i)), None)
        if hit is not None:
            ids.append(specials[hit])
            i += len(hit)
        else:
            j = i
            while j < len(text) and not any(text.startswith(c, j) for c in specials):
                j += 1
            ids.extend(text[i:j].encode("utf-8"))
            i = j
    return ids


def init_vision_weights(seed):
    g = torch.Generator().manual_seed(seed)
    W = {}

    def normal(name, *shape, std, mean=0.0):
        W[name] = (torch.randn(*shape, generator=g, dtype=torch.float32) * std + mean).contiguous()

    v, D, I = "thinker.visual.", VISION["hidden_size"], VISION["intermediate_size"]
    normal(v + "patch_embed.proj.weight", D, 3, 2, 14, 14, std=0.05)
    for i in range(VISION["depth"]):
        p = f"{v}blocks.{i}."
        normal(p + "norm1.weight", D, std=0.1, mean=1.0)
        normal(p + "norm2.weight", D, std=0.1, mean=1.0)
        for proj in ("q", "k", "v", "proj"):
            normal(p + f"attn.{proj}.weight", D, D, std=0.15)
            normal(p + f"attn.{proj}.bias", D, std=0.1)
        normal(p + "mlp.gate_proj.weight", I, D, std=0.15)
        normal(p + "mlp.gate_proj.bias", I, std=0.1)
        normal(p + "mlp.up_proj.weight", I, D, std=0.15)
        normal(p + "mlp.up_proj.bias", I, std=0.1)
        normal(p + "mlp.down_proj.weight", D, I, std=0.15)
        normal(p + "mlp.down_proj.bias", D, std=0.1)
    M = D * 4
    normal(v + "merger.ln_q.weight", D, std=0.1, mean=1.0)
    normal(v + "merger.mlp.0.weight", M, M, std=0.1)
    normal(v + "merger.mlp.0.bias", M, std=0.1)
    normal(v + "merger.mlp.2.weight", VISION["out_hidden_size"], M, std=0.1)
    normal(v + "merger.mlp.2.bias", VISION["out_hidden_size"], std=0.1)
    return W


# ---------------------------------------------------------------------------------------------------------------
# The thinker: Qwen2.5-VL's ports with the Omni differences.
# ---------------------------------------------------------------------------------------------------------------
class RefOmniThinker(vl.RefVL):
    """RefVL over the thinker's weights (prefix "thinker." dropped) with Qwen2_5OmniVisionAttention's split q/k/v."""

    def __init__(self, config, weights, dtype):
        th = config["thinker_config"]
        tc = th["text_config"]
        cfg = dict(tc, vision_config=th["vision_config"], image_token_id=th["image_token_index"],
                   video_token_id=th["video_token_index"], vision_start_token_id=th["vision_start_token_id"])
        super().__init__(cfg, {k[len("thinker."):]: v for k, v in weights.items()}, dtype)
        self.thinker = th

    def vision_attn(self, x, cu_seqlens, cos, sin, b):
        # Qwen2_5OmniVisionAttention: q, k, v from three linears, then as Qwen2.5-VL (fp32 rotary, per-segment eager).
        N = x.shape[0]
        q = self.linear(x, b + "attn.q").reshape(N, self.Hv, -1)
        k = self.linear(x, b + "attn.k").reshape(N, self.Hv, -1)
        v = self.linear(x, b + "attn.v").reshape(N, self.Hv, -1)
        od = q.dtype
        qf, kf = q.to(self.acc), k.to(self.acc)
        c, s = cos.unsqueeze(-2).to(self.acc), sin.unsqueeze(-2).to(self.acc)
        q = ((qf * c) + (rotate_half(qf) * s)).to(od).transpose(0, 1).unsqueeze(0)
        k = ((kf * c) + (rotate_half(kf) * s)).to(od).transpose(0, 1).unsqueeze(0)
        v = v.transpose(0, 1).unsqueeze(0)
        lengths = (cu_seqlens[1:] - cu_seqlens[:-1]).tolist()
        outs = []
        for qs, ks, vs in zip(torch.split(q, lengths, dim=2), torch.split(k, lengths, dim=2),
                              torch.split(v, lengths, dim=2)):
            a = torch.matmul(qs, ks.transpose(2, 3)) * self.dv ** -0.5
            a = F.softmax(a, dim=-1, dtype=self.acc).to(qs.dtype)
            outs.append(torch.matmul(a, vs).transpose(1, 2).contiguous())
        o = torch.cat(outs, dim=1).reshape(N, -1).contiguous()
        return self.linear(o, b + "attn.proj")

    def omni_rope_index(self, input_ids, image_grid_thw, audio_seqlens, force_walk=False):
        """get_rope_index for one unpadded sequence (no video, use_audio_in_video False). Returns ([3, S], delta)."""
        th = self.thinker
        image_token_id, video_token_id, audio_token_id = th["image_token_index"], th["video_token_index"], th["audio_token_index"]
        vision_start_token_id, audio_start_token_id = th["vision_start_token_id"], th["audio_start_token_id"]
        position_id_per_seconds = th["position_id_per_seconds"]
        ms = self.merge
        if image_grid_thw is None and not force_walk:
            pos = torch.arange(input_ids.shape[0]).view(1, -1).expand(3, -1)   # cumsum(attention_mask) - 1
            return pos, int(pos.max()) + 1 - input_ids.shape[0]
        vision_start_indices = torch.argwhere(input_ids == vision_start_token_id).squeeze(1)
        vision_tokens = input_ids[vision_start_indices + 1]
        audio_nums = int(torch.sum(input_ids == audio_start_token_id))
        image_nums = int((vision_tokens == image_token_id).sum())
        video_nums = int((vision_tokens == video_token_id).sum())
        input_tokens = input_ids.tolist()
        llm_pos_ids_list = []
        st = 0
        remain_images, remain_audios = image_nums, audio_nums
        image_idx, audio_idx = 0, 0

        def next_start():
            return int(llm_pos_ids_list[-1].max()) + 1 if llm_pos_ids_list else 0

        for _ in range(image_nums + video_nums + audio_nums):
            ed_image = input_tokens.index(image_token_id, st) if image_token_id in input_tokens and remain_images > 0 else len(input_tokens) + 1
            ed_audio = input_tokens.index(audio_token_id, st) if audio_token_id in input_tokens and remain_audios > 0 else len(input_tokens) + 1
            min_ed = min(ed_image, ed_audio)
            text_len = min_ed - st - 1
            if text_len != 0:
                llm_pos_ids_list.append(torch.arange(text_len).view(1, -1).expand(3, -1) + next_start())
            llm_pos_ids_list.append(torch.arange(1).view(1, -1).expand(3, -1) + next_start())   # bos
            if min_ed == ed_audio:
                audio_len = ((int(audio_seqlens[audio_idx]) - 1) // 2 + 1 - 2) // 2 + 1
                llm_pos_ids_list.append(torch.arange(audio_len).view(1, -1).expand(3, -1) + next_start())
                length = audio_len
                audio_idx += 1
                remain_audios -= 1
            else:
                grid_t, grid_h, grid_w = image_grid_thw[image_idx].tolist()
                t_index = (torch.arange(grid_t) * 1 * position_id_per_seconds).long()
                llm_h, llm_w = grid_h // ms, grid_w // ms
                h_index = torch.arange(llm_h).view(1, -1, 1).expand(len(t_index), -1, llm_w).flatten()
                w_index = torch.arange(llm_w).view(1, 1, -1).expand(len(t_index), llm_h, -1).flatten()
                t_flat = t_index.view(-1, 1).expand(-1, llm_h * llm_w).flatten()
                llm_pos_ids_list.append(torch.stack([t_flat, h_index, w_index]) + next_start())
                length = grid_t * grid_h * grid_w // (ms * ms)
                image_idx += 1
                remain_images -= 1
            llm_pos_ids_list.append(torch.arange(1).view(1, -1).expand(3, -1) + next_start())   # eos
            st += text_len + 1 + length + 1
        if st < len(input_tokens):
            llm_pos_ids_list.append(torch.arange(len(input_tokens) - st).view(1, -1).expand(3, -1) + next_start())
        pos = torch.cat(llm_pos_ids_list, dim=1).reshape(3, -1)
        assert pos.shape[1] == len(input_tokens)
        return pos, int(pos.max()) + 1 - len(input_tokens)

    def logits(self, input_ids, audio_embeds, image_embeds, position_ids):
        x = F.embedding(input_ids, self.w["model.embed_tokens.weight"])
        for emb, tok in ((audio_embeds, self.thinker["audio_token_index"]), (image_embeds, self.thinker["image_token_index"])):
            if emb is None:
                continue
            mask = input_ids == tok
            assert int(mask.sum()) == emb.shape[0], "placeholder count != feature rows"
            x = x.masked_scatter(mask.unsqueeze(-1).expand_as(x), emb.to(x.dtype))
        out, _ = self.decoder(x.unsqueeze(0), position_ids.view(3, 1, -1))
        return out[0]


def render(media, prompt, n_audio, n_image):
    framed = {"audio": "<|audio_bos|>" + "<|AUDIO|>" * n_audio + "<|audio_eos|>",
              "image": "<|vision_bos|>" + "<|IMAGE|>" * n_image + "<|vision_eos|>"}
    user = "".join(framed[m] for m in media) + prompt
    return f"<|im_start|>system\n{SYSTEM_DEFAULT}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    os.makedirs(OUT, exist_ok=True)
    config = make_config()
    tokenizer, tokenizer_config = make_tokenizer()
    files = {"config.json": config, "preprocessor_config.json": make_preprocessor_config(),
             "generation_config.json": {"bos_token_id": TOK["endoftext"], "eos_token_id": TOK["im_end"],
                                        "pad_token_id": TOK["endoftext"], "do_sample": False},
             "tokenizer_config.json": tokenizer_config}
    for name, obj in files.items():
        with open(os.path.join(OUT, name), "w") as f:
            f.write(hf_json(obj))
    with open(os.path.join(OUT, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, indent=2, ensure_ascii=False)
        f.write("\n")

    weights = enc_fix.init_weights(SEED)
    weights.update(init_vision_weights(VISION_SEED))
    write_safetensors(os.path.join(OUT, "model.safetensors"), weights, {"format": "pt"})
    loaded = read_safetensors(os.path.join(OUT, "model.safetensors"))
    assert sorted(loaded) == sorted(weights) and all(torch.equal(loaded[k], weights[k]) for k in weights)

    # Media: the audio tower's output for the recording, the vision tower's for the image.
    y, _, _, _ = audio_ref.librosa_load(os.path.join(REPO, AUDIO_FILE))
    features, mask = audio_ref.whisper_features(y)
    L = int(mask.sum())
    audio_features = torch.from_numpy(features[:, :L].copy())
    audio_cfg = config["thinker_config"]["audio_config"]
    audio32 = enc_fix.encode(enc_fix.AudioEncoder(audio_cfg, weights, torch.float32), [audio_features])
    audio64 = enc_fix.encode(enc_fix.AudioEncoder(audio_cfg, weights, torch.float64), [audio_features.double()])
    n_audio = audio32.shape[0]
    assert n_audio == ((L - 1) // 2 + 1 - 2) // 2 + 1

    rgb = image_ref.synth_rgb(168, 112, seed=11)
    Image.fromarray(rgb).save(os.path.join(OUT, IMAGE_NAME), optimize=False, compress_level=9)
    with Image.open(os.path.join(OUT, IMAGE_NAME)) as im:
        im.load()
        _, pixel_values, grid = image_ref.preprocess(im, image_ref.CHECKPOINT_MIN_PIXELS, image_ref.CHECKPOINT_MAX_PIXELS)
    assert grid == (1, 8, 12), grid
    image_grid_thw = torch.tensor([grid], dtype=torch.long)
    pixels = torch.from_numpy(pixel_values)
    model32 = RefOmniThinker(config, weights, torch.float32)
    model64 = RefOmniThinker(config, weights, torch.float64)
    image32 = model32.visual(pixels, image_grid_thw)
    image64 = model64.visual(pixels.double(), image_grid_thw)
    n_image = image32.shape[0]
    assert n_image == 24

    ref = {"image.vision_output": image32.contiguous(), "audio.tower_output": audio32.contiguous()}
    meta = {"seed": SEED, "vision_seed": VISION_SEED, "torch": torch.__version__, "audio_file": AUDIO_FILE,
            "audio_valid_frames": L, "audio_tokens": n_audio, "image_file": IMAGE_NAME,
            "image_grid_thw": list(grid), "image_tokens": n_image,
            "followed": "transformers Qwen2_5OmniThinkerForConditionalGeneration (get_rope_index, forward), "
                        "src/transformers/models/qwen2_5_omni/modeling_qwen2_5_omni.py", "prompts": []}
    for name, media, prompt in PROMPTS:
        text = render(media, prompt, n_audio, n_image)
        ids = torch.tensor(tokenize(text), dtype=torch.long)
        a32 = audio32 if "audio" in media else None
        i32 = image32 if "image" in media else None
        grids = image_grid_thw if "image" in media else None
        seqlens = [L] if "audio" in media else []
        pos, delta = model32.omni_rope_index(ids, grids, seqlens)
        if grids is None:
            walked, walked_delta = model32.omni_rope_index(ids, None, seqlens, force_walk=True)
            assert torch.equal(walked, pos) and walked_delta == delta == 0, name   # audio positions are sequential
        logits = model32.logits(ids, a32, i32, pos)
        logits64 = model64.logits(ids, audio64 if a32 is not None else None, image64 if i32 is not None else None, pos)
        d64 = (logits.double() - logits64).abs().max().item()
        assert d64 < 1e-4, (name, d64)
        if media == ["audio"]:
            independent = enc_fix.thinker_logits(config, weights, ids, audio32)
            d_ind = (independent - logits).abs().max().item()
            assert d_ind < 1e-5, d_ind
            meta["audio_vs_independent_decoder"] = d_ind
        ref[f"{name}.input_ids"] = ids
        ref[f"{name}.position_ids"] = pos.contiguous()
        ref[f"{name}.rope_delta"] = torch.tensor([delta], dtype=torch.long)
        ref[f"{name}.logits"] = logits.contiguous()
        entry = {"name": name, "media": media, "prompt": prompt, "text": text, "tokens": int(ids.shape[0]),
                 "rope_delta": delta, "fp32_vs_fp64": d64}
        if "image" in media:
            entry["image_rows"] = [int(i) for i in torch.argwhere(ids == TOK["image"]).flatten()[[0, -1]]]
        if "audio" in media:
            entry["audio_rows"] = [int(i) for i in torch.argwhere(ids == TOK["audio"]).flatten()[[0, -1]]]
        if name == "audio_image":
            # Greedy continuation by full recompute (eos ignored): positions of the extended sequence from the walk,
            # whose new rows must equal cache_position + rope_delta (the decode rule).
            seq, greedy, margins = ids.clone(), [], []
            for step in range(GREEDY_TOKENS):
                p, _ = model32.omni_rope_index(seq, grids, seqlens)
                if step > 0:
                    assert p[:, -1].tolist() == [seq.shape[0] - 1 + delta] * 3, (step, p[:, -1])
                last = model32.logits(seq, a32, i32, p)[-1]
                top = torch.topk(last, 2).values
                margins.append((top[0] - top[1]).item())
                nxt = int(last.argmax())
                greedy.append(nxt)
                seq = torch.cat([seq, torch.tensor([nxt])])
            assert min(margins) >= 1e-3, margins
            ref[f"{name}.greedy_ids"] = torch.tensor(greedy, dtype=torch.long)
            entry["greedy_ids"] = greedy
            entry["greedy_min_margin"] = min(margins)
        meta["prompts"].append(entry)
        print(f"{name:12s} {ids.shape[0]:4d} tokens, rope_delta {delta:4d}, fp32-fp64 {d64:.1e}")

    write_safetensors(os.path.join(OUT, "reference.safetensors"), ref, {"format": "pt"})
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
