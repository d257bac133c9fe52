#!/usr/bin/python3
"""Parity fixture for the language side of Mol-LLaMA: a tiny peft-wrapped Llama-3.1 with LoRA on the seven
projections, two extra vocabulary rows ([PAD], <mol>), and molecule query embeddings spliced over <mol> tokens.

Writes tests/JudgeHost.Tests/Fixtures/parity/mol-llama-llm-tiny/
    config.json              a MolLLaMAConfig (model_type mol_llama, llm_config.lora_config r/alpha/dropout,
                             qformer_config.num_query_tokens) with the Llama architecture as text_config (vocab 256,
                             the base model's, before resize_token_embeddings to 258)
    model.safetensors        the decoder only, under the keys MolLLaMA.state_dict() gives it: llm.base_model.model.<transformers
                             name>; on every LoRA target linear the frozen weight is ....base_layer.weight and the adapter
                             ....lora_A.default.weight [r, in] / ....lora_B.default.weight [out, r] (peft >= 0.7)
    reference.safetensors    input_ids [T] (BOS, text, 8 x <mol>, text, 8 x <mol>, text), mol_embeds [2, 8, D] (the
                             projected Q-Former outputs the encoder would give; random here, so this parity does not
                             depend on the encoder), logits [T, 258] (fp32), greedy_ids [12] (eos ignored) and
                             greedy_step_logits [12, 258]
    reference.json           ids, <mol> positions, LoRA settings, sanity numbers

The reference forward follows the code it mirrors, line by line:
  * models/mol_llama.py MolLLaMA.forward/generate: inputs_embeds = llm.get_input_embeddings()(input_ids);
    inputs_embeds[mol_token_flag] = query_output.flatten(0, 1).to(inputs_embeds.dtype)  (here two molecules in one
    sequence, flattened in order: the reference allows one per sample, the host allows several)
  * peft tuners/lora/layer.py Linear.forward (unmerged, eval mode, dropout inactive):
    result = base_layer(x) + lora_B(lora_A(x)) * scaling, scaling = lora_alpha / r
  * transformers LlamaForCausalLM eager path as tools/parity/make_text_fixtures.py implements it (RMSNorm in fp32,
    llama3 RoPE, GQA, SiLU MLP), imported from there.
Self-checks (the script fails otherwise): float64 run of this forward vs an independent float64 forward over MERGED
weights (W + scaling * B @ A) within 1e-9; the LoRA update changes the logits by > 0.1 (it is not a no-op); the
greedy continuation is not constant.

Run with Debian's python3-torch:   /usr/bin/python3 tools/molecule/make_mol_llama_llm_fixtures.py [--out DIR]
Deterministic: fixed seed, one thread, CPU.
"""
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO_ROOT, "tools", "parity"))
import make_text_fixtures as base  # noqa: E402  (helpers: safetensors io, llama3 inv_freq, rotate_half, repeat_kv)

DEFAULT_OUT = os.path.join(REPO_ROOT, "tests", "JudgeHost.Tests", "Fixtures", "parity", "mol-llama-llm-tiny")

SEED = 3301
BASE_VOCAB = 256
PAD_ID, MOL_ID = 256, 257          # resize_token_embeddings(len(tokenizer)) after adding [PAD], then <mol>
VOCAB = 258
HIDDEN, INTER, LAYERS, HEADS, KV_HEADS = 64, 128, 2, 4, 2
LORA_R, LORA_ALPHA, LORA_DROPOUT = 4, 16, 0.1
NUM_QUERY = 8
BOS = 248
GREEDY = 12
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
LLM = "llm.base_model.model."


def text_config():
    return {
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": BOS,
        "eos_token_id": [249, 252, 253],
        "head_dim": HIDDEN // HEADS,
        "hidden_act": "silu",
        "hidden_size": HIDDEN,
        "initializer_range": 0.02,
        "intermediate_size": INTER,
        "max_position_embeddings": 512,
        "mlp_bias": False,
        "model_type": "llama",
        "num_attention_heads": HEADS,
        "num_hidden_layers": LAYERS,
        "num_key_value_heads": KV_HEADS,
        "pretraining_tp": 1,
        "rms_norm_eps": 1e-05,
        "rope_scaling": {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                         "original_max_position_embeddings": 64, "rope_type": "llama3"},
        "rope_theta": 500000.0,
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
        "use_cache": True,
        "vocab_size": BASE_VOCAB,
    }


def mol_llama_config():
    # utils/configuration_mol_llama.py MolLLaMAConfig.to_dict shape (sub-configs as nested dicts)
    return {
        "architectures": ["MolLLaMA"],
        "model_type": "mol_llama",
        "torch_dtype": "float32",
        "llm_config": {"llm_model": "meta-llama/Llama-3.1-8B-Instruct",
                       "lora_config": {"r": LORA_R, "lora_alpha": LORA_ALPHA, "lora_dropout": LORA_DROPOUT}},
        "qformer_config": {"bert_name": "allenai/scibert_scivocab_uncased", "num_query_tokens": NUM_QUERY,
                           "cross_attention_freq": 2, "embed_dim": 256},
        "blending_module_config": {"num_layers": 4, "num_heads": 8},
        "graph_encoder_config": {"encoder_types": ["unimol", "moleculestm"]},
        "text_config": text_config(),
    }


def init_weights(g):
    """Decoder weights under transformers names (merged view is computed separately)."""
    d = HIDDEN // HEADS

    def normal(*shape, std):
        return (torch.randn(*shape, generator=g, dtype=torch.float32) * std).contiguous()

    def norm_w():
        return (1.0 + 0.1 * torch.randn(HIDDEN, generator=g, dtype=torch.float32)).contiguous()

    w = {"model.embed_tokens.weight": normal(VOCAB, HIDDEN, std=0.25)}
    lora = {}
    shapes = {"q_proj": (HEADS * d, HIDDEN), "k_proj": (KV_HEADS * d, HIDDEN), "v_proj": (KV_HEADS * d, HIDDEN),
              "o_proj": (HIDDEN, HEADS * d), "gate_proj": (INTER, HIDDEN), "up_proj": (INTER, HIDDEN),
              "down_proj": (HIDDEN, INTER)}
    for i in range(LAYERS):
        p = f"model.layers.{i}."
        w[p + "input_layernorm.weight"] = norm_w()
        w[p + "post_attention_layernorm.weight"] = norm_w()
        for t in TARGETS:
            mod = p + ("self_attn." if t.endswith(("q_proj", "k_proj", "v_proj", "o_proj")) else "mlp.") + t
            out_f, in_f = shapes[t]
            w[mod + ".weight"] = normal(out_f, in_f, std=0.15)
            # peft initialises B to zero; a trained adapter is not, so both factors are random here
            lora[mod] = (normal(LORA_R, in_f, std=0.2), normal(out_f, LORA_R, std=0.1))
    w["model.norm.weight"] = norm_w()
    w["lm_head.weight"] = normal(VOCAB, HIDDEN, std=0.3)
    return w, lora


def checkpoint_tensors(w, lora):
    out = {}
    for name, t in w.items():
        mod = name[:-len(".weight")]
        if mod in lora:
            out[LLM + mod + ".base_layer.weight"] = t
            a, b = lora[mod]
            out[LLM + mod + ".lora_A.default.weight"] = a
            out[LLM + mod + ".lora_B.default.weight"] = b
        else:
            out[LLM + name] = t
    return out


class LoraLlama:
    """transformers LlamaForCausalLM (eager) over inputs_embeds, each target Linear as peft's LoRA Linear.forward."""

    def __init__(self, cfg, w, lora, dtype, merged=False):
        self.dtype = dtype
        self.acc = torch.float64 if dtype == torch.float64 else torch.float32
        self.scaling = LORA_ALPHA / LORA_R
        self.w = {k: v.to(dtype) for k, v in w.items()}
        self.lora = {k: (a.to(dtype), b.to(dtype)) for k, (a, b) in lora.items()}
        if merged:
            # an independent formulation: fold the adapter into the weight (peft merge), no LoRA path at run time
            for mod, (a, b) in self.lora.items():
                self.w[mod + ".weight"] = self.w[mod + ".weight"] + (b @ a) * self.scaling
            self.lora = {}
        self.d = HIDDEN // HEADS
        self.inv_freq = base.llama3_inv_freq(cfg["rope_theta"], self.d, cfg["rope_scaling"], self.acc)

    def linear(self, x, mod):
        result = F.linear(x, self.w[mod + ".weight"])
        if mod in self.lora:
            a, b = self.lora[mod]
            result = result + F.linear(F.linear(x, a), b) * self.scaling
        return result

    def rms_norm(self, x, weight):
        h = x.to(self.acc)
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + 1e-05)
        return weight * h.to(x.dtype)

    def embed(self, ids, mol_embeds):
        # MolLLaMA.forward: overwrite the <mol> positions, in order, with the flattened query outputs
        x = F.embedding(ids[None], self.w["model.embed_tokens.weight"])         # [1, T, D]
        flag = (ids == MOL_ID)[None]
        x[flag] = mol_embeds.flatten(0, 1).to(x.dtype)
        return x

    def forward(self, x):
        B, S, _ = x.shape
        pos = torch.arange(S, dtype=torch.int64)[None]
        freqs = (self.inv_freq[None, :, None].to(self.acc) @ pos[:, None, :].to(self.acc)).transpose(1, 2)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(self.dtype).unsqueeze(1), emb.sin().to(self.dtype).unsqueeze(1)
        allowed = torch.ones(S, S, dtype=torch.bool).tril()[None, None]
        mask = torch.zeros(1, 1, S, S, dtype=self.dtype).masked_fill(~allowed, torch.finfo(self.dtype).min)
        for i in range(LAYERS):
            p = f"model.layers.{i}."
            residual = x
            h = self.rms_norm(x, self.w[p + "input_layernorm.weight"])
            q = self.linear(h, p + "self_attn.q_proj").view(B, S, -1, self.d).transpose(1, 2)
            k = self.linear(h, p + "self_attn.k_proj").view(B, S, -1, self.d).transpose(1, 2)
            v = self.linear(h, p + "self_attn.v_proj").view(B, S, -1, self.d).transpose(1, 2)
            q = (q * cos) + (base.rotate_half(q) * sin)
            k = (k * cos) + (base.rotate_half(k) * sin)
            k, v = base.repeat_kv(k, HEADS // KV_HEADS), base.repeat_kv(v, HEADS // KV_HEADS)
            attn = torch.matmul(q, k.transpose(2, 3)) * self.d ** -0.5 + mask
            attn = F.softmax(attn, dim=-1, dtype=self.acc).to(q.dtype)
            a = torch.matmul(attn, v).transpose(1, 2).contiguous().reshape(B, S, -1)
            x = residual + self.linear(a, p + "self_attn.o_proj")
            residual = x
            h = self.rms_norm(x, self.w[p + "post_attention_layernorm.weight"])
            mlp = self.linear(F.silu(self.linear(h, p + "mlp.gate_proj")) * self.linear(h, p + "mlp.up_proj"), p + "mlp.down_proj")
            x = residual + mlp
        x = self.rms_norm(x, self.w["model.norm.weight"])
        return F.linear(x, self.w["lm_head.weight"])[0]                           # [T, V]


def build(out_dir):
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(SEED)
    cfg = text_config()
    w, lora = init_weights(g)

    # prompt: BOS, text, molecule 0 (8 x <mol>), text, molecule 1, text; text ids avoid the special rows
    def text(n):
        return torch.randint(0, 240, (n,), generator=g).tolist()
    ids = [BOS] + text(6) + [MOL_ID] * NUM_QUERY + text(5) + [MOL_ID] * NUM_QUERY + text(7)
    input_ids = torch.tensor(ids, dtype=torch.int64)
    mol_embeds = (torch.randn(2, NUM_QUERY, HIDDEN, generator=g) * 0.5).contiguous()

    ref = LoraLlama(cfg, w, lora, torch.float32)
    with torch.no_grad():
        logits = ref.forward(ref.embed(input_ids, mol_embeds))
        # greedy continuation by full recompute: new tokens are ordinary embeddings after the spliced prefix
        seq = input_ids.clone()
        greedy, steps = [], []
        for _ in range(GREEDY):
            step = ref.forward(ref.embed(seq, mol_embeds))[-1]
            nxt = int(step.argmax())
            greedy.append(nxt)
            steps.append(step)
            seq = torch.cat([seq, torch.tensor([nxt])])

        r64 = LoraLlama(cfg, w, lora, torch.float64).forward(LoraLlama(cfg, w, lora, torch.float64).embed(input_ids, mol_embeds.double()))
        m64 = LoraLlama(cfg, w, lora, torch.float64, merged=True)
        merged64 = m64.forward(m64.embed(input_ids, mol_embeds.double()))
        no_lora = LoraLlama(cfg, w, {}, torch.float32)
        plain = no_lora.forward(no_lora.embed(input_ids, mol_embeds))

    merge_diff = float((r64 - merged64).abs().max())
    fp32_vs_fp64 = float((logits.double() - r64).abs().max())
    lora_effect = float((logits - plain).abs().max())
    assert merge_diff < 1e-9, f"unmerged vs merged float64 forward differ by {merge_diff}"
    assert lora_effect > 0.1, f"the LoRA update barely changes the logits ({lora_effect}); pick other scales"
    assert len(set(greedy)) >= 4, f"greedy continuation is too repetitive: {greedy}"
    margins = [float(s.topk(2).values[0] - s.topk(2).values[1]) for s in steps]
    assert min(margins) > 1e-3, f"greedy top1-top2 margin too small: {min(margins)}"

    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        f.write(base.hf_json(mol_llama_config()))
    base.write_safetensors(os.path.join(out_dir, "model.safetensors"), checkpoint_tensors(w, lora), {"format": "pt"})
    base.write_safetensors(os.path.join(out_dir, "reference.safetensors"), {
        "input_ids": input_ids,
        "mol_embeds": mol_embeds,
        "logits": logits.contiguous(),
        "greedy_ids": torch.tensor(greedy, dtype=torch.int64),
        "greedy_step_logits": torch.stack(steps).contiguous(),
    })
    meta = {
        "input_ids": ids,
        "mol_token_id": MOL_ID,
        "pad_token_id": PAD_ID,
        "mol_positions": [i for i, t in enumerate(ids) if t == MOL_ID],
        "num_query_tokens": NUM_QUERY,
        "lora": {"r": LORA_R, "lora_alpha": LORA_ALPHA, "scaling": LORA_ALPHA / LORA_R, "targets": TARGETS},
        "greedy_ids": greedy,
        "ignore_eos": True,
        "sanity": {
            "unmerged_vs_merged_fp64_max_abs": merge_diff,
            "fp32_vs_fp64_max_abs": fp32_vs_fp64,
            "lora_effect_on_logits_max_abs": lora_effect,
            "greedy_min_top1_top2_margin": min(margins),
        },
    }
    with open(os.path.join(out_dir, "reference.json"), "w") as f:
        f.write(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    print(json.dumps(meta["sanity"]))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=DEFAULT_OUT)
    build(ap.parse_args().out)
