namespace JudgeHost.Backbone;

/// <summary>
/// Where a Mol-LLaMA checkpoint keeps its tensors: the key names of <c>MolLLaMA.state_dict()</c> (Flex-Judge
/// <c>example/models/mol_llama.py</c>, saved by <c>save_pretrained</c> and read back by
/// <c>MolLLaMA.from_pretrained(DongkiKim/Mol-Llama-3.1-8B-Instruct)</c>). This is the one place that spells them.
/// <list type="bullet">
/// <item><c>encoder.*</c>: <c>MolLLaMAEncoder</c> — <c>graph_encoder.{unimol,moleculestm}.*</c> (frozen; the reference
/// loads them from their own repositories and ignores them when missing), <c>ln_graph.{unimol,moleculestm}.*</c>,
/// <c>blending_module.*</c>, <c>Qformer.bert.*</c> (text-side modules deleted by <c>postprocess_encoder</c>),
/// <c>query_tokens</c>. The molecule plugin reads these.</item>
/// <item><c>llm_proj.{weight,bias}</c>: the projector, Q-Former width → Llama hidden. The molecule plugin reads it.</item>
/// <item><c>llm.*</c>: the Llama-3.1 decoder inside peft: <c>MolLLaMA.llm = get_peft_model(LlamaForCausalLM, LoraConfig)</c>
/// is a <c>PeftModelForCausalLM</c> whose <c>base_model</c> is a <c>LoraModel</c> whose <c>model</c> is the
/// <c>LlamaForCausalLM</c>, so every transformers name <c>N</c> (<c>model.layers.0.mlp.up_proj.weight</c>,
/// <c>lm_head.weight</c>) becomes <c>llm.base_model.model.N</c>. In the LoRA target linears (<c>q_proj k_proj v_proj
/// o_proj gate_proj up_proj down_proj</c>; peft ≥ 0.7 layout) the frozen weight moves one level down to
/// <c>….q_proj.base_layer.weight</c> and the adapter adds <c>….q_proj.lora_A.default.weight [r, in]</c> and
/// <c>….q_proj.lora_B.default.weight [out, r]</c>; the update is <c>W + (lora_alpha / r) · B·A</c>. The embedding and
/// lm_head have <c>vocab + 2</c> rows: <c>[PAD]</c> and <c>&lt;mol&gt;</c> (added in that order) are the last two.</item>
/// </list>
/// </summary>
public static class MolLlamaCheckpointKeys
{
    /// <summary>The molecule encoder (<c>MolLLaMA.encoder</c>).</summary>
    public const string EncoderPrefix = "encoder.";

    /// <summary>The projector (<c>MolLLaMA.llm_proj</c>, <c>nn.Linear(qformer_hidden, llm_hidden)</c>).</summary>
    public const string ProjectorPrefix = "llm_proj.";

    /// <summary>The Llama decoder inside peft's wrappers: <c>llm.base_model.model.</c> + the transformers name.</summary>
    public const string LlmPrefix = "llm.base_model.model.";

    /// <summary>peft's adapter name (<c>get_peft_model</c> without one).</summary>
    public const string AdapterName = "default";

    /// <summary>The reference's LoRA targets (<c>target_modules</c> in <c>MolLLaMA.__init__</c>).</summary>
    public static IReadOnlyList<string> LoraTargets { get; } = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    /// <summary>
    /// The checkpoint key of a decoder tensor given its transformers name: <c>model.layers.0.self_attn.q_proj.weight</c>
    /// → <c>llm.base_model.model.model.layers.0.self_attn.q_proj.base_layer.weight</c> (a LoRA target),
    /// <c>model.norm.weight</c> → <c>llm.base_model.model.model.norm.weight</c>.
    /// </summary>
    public static string Llm(string transformersName)
    {
        ArgumentNullException.ThrowIfNull(transformersName);
        string? module = LoraModule(transformersName, out string leaf);
        return module is null ? LlmPrefix + transformersName : $"{LlmPrefix}{module}.base_layer.{leaf}";
    }

    /// <summary><c>lora_A</c> of a target linear given its module path (<c>model.layers.0.self_attn.q_proj</c>): <c>[r, in]</c>.</summary>
    public static string LoraA(string module) => $"{LlmPrefix}{module}.lora_A.{AdapterName}.weight";

    /// <summary><c>lora_B</c> of a target linear given its module path: <c>[out, r]</c>.</summary>
    public static string LoraB(string module) => $"{LlmPrefix}{module}.lora_B.{AdapterName}.weight";

    /// <summary>
    /// The module path of a LoRA target (<c>model.layers.3.mlp.up_proj</c>) when <paramref name="transformersName"/> is
    /// one of its parameters (<paramref name="leaf"/> <c>weight</c> or <c>bias</c>); null otherwise.
    /// </summary>
    public static string? LoraModule(string transformersName, out string leaf)
    {
        ArgumentNullException.ThrowIfNull(transformersName);
        int dot = transformersName.LastIndexOf('.');
        leaf = dot < 0 ? transformersName : transformersName[(dot + 1)..];
        if (dot < 0 || !transformersName.StartsWith("model.layers.", StringComparison.Ordinal))
        {
            return null;
        }

        string module = transformersName[..dot];
        string last = module[(module.LastIndexOf('.') + 1)..];
        return LoraTargets.Contains(last) ? module : null;
    }
}
