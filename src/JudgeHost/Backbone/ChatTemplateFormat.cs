namespace JudgeHost.Backbone;

/// <summary>The chat template families <see cref="ChatTemplate"/> renders byte for byte like their Jinja originals.</summary>
public enum ChatTemplateFormat
{
    /// <summary>ChatML with default system "You are a helpful assistant." (Qwen2-Instruct, and Qwen2.5-VL for text).</summary>
    Qwen2,

    /// <summary>ChatML with default system "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.".</summary>
    Qwen25,

    /// <summary>ChatML without a default system, with &lt;think&gt; handling and enable_thinking (Qwen3).</summary>
    Qwen3,

    /// <summary>Header blocks, BOS before the first message, no system block of its own (Llama 3 Instruct).</summary>
    Llama3,

    /// <summary>Header blocks with the "Cutting Knowledge Date" system block (Llama 3.1 Instruct).</summary>
    Llama31,
}
