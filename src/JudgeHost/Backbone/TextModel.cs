using JudgeHost.Abstractions;
using static TorchSharp.torch;

namespace JudgeHost.Backbone;

/// <summary>A loaded text checkpoint: decoder, and (when the directory has them) tokenizer, chat template and stop ids.</summary>
public sealed class TextModel : IDisposable
{
    private TextModel(string directory, CausalLM model, LoadReport report, HfTokenizer? tokenizer, ChatTemplate? template, int[] eosIds)
    {
        Directory = directory;
        Model = model;
        Report = report;
        Tokenizer = tokenizer;
        Template = template;
        EosIds = eosIds;
        Generator = new TextGenerator(model);
    }

    public string Directory { get; }

    public CausalLM Model { get; }

    public TextGenerator Generator { get; }

    public LoadReport Report { get; }

    public HfTokenizer? Tokenizer { get; }

    public ChatTemplate? Template { get; }

    public int[] EosIds { get; }

    public HfTokenizer RequireTokenizer() => Tokenizer
        ?? throw new JudgeHostException($"The model directory '{Directory}' has no tokenizer.json; text input needs one (the --ids forms work without it).");

    public ChatTemplate RequireTemplate() => Template
        ?? throw new JudgeHostException($"The model directory '{Directory}' has no usable chat template (tokenizer_config.json); --chat and judging need one.");

    public static TextModel Load(string directory, ScalarType dtype, Device device)
    {
        var (model, report) = CheckpointLoader.Load(directory, dtype, device);
        try
        {
            HfTokenizer? tokenizer = File.Exists(Path.Combine(directory, "tokenizer.json")) ? HfTokenizer.Load(directory) : null;
            ChatTemplate? template = tokenizer is null ? null : TryTemplate(tokenizer, model.Config.ModelType);
            // Mol-LLaMA stops on the tokenizer's eos and <|eot_id|> (its generate passes them, not generation_config's).
            int[] eos = model.Config.ModelType == MolLlamaConfig.ModelType && tokenizer is not null
                ? MolLlamaConfig.Terminators(tokenizer)
                : GenerationConfigFile.EosIds(directory, model.Config);
            return new TextModel(directory, model, report, tokenizer, template, eos);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public void Dispose() => Model.Dispose();

    private static ChatTemplate? TryTemplate(HfTokenizer tokenizer, string modelType)
    {
        try
        {
            return ChatTemplate.FromTokenizer(tokenizer, modelType);
        }
        catch (JudgeHostException)
        {
            return null;
        }
    }
}
