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

    /// <summary>
    /// Mol-LLaMA's hand-built Llama-3 turns (<c>tokenize_messages_llama3</c>), which the reference uses instead of the
    /// checkpoint's chat_template: BOS only with a system turn, content kept as is (no trim, no date block), and every
    /// user turn followed by the assistant header.
    /// </summary>
    MolLlama3,
}
