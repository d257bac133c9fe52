using System.Text.Json;
using System.Text.Json.Nodes;
using JudgeHost.Abstractions;
using static TorchSharp.torch;

namespace JudgeHost.Backbone;

/// <summary>
/// Builds Flex-Mol-LLaMA (JUDGE_PROTOCOL §6.3): a Mol-LLaMA checkpoint whose Llama base weights are replaced by a
/// text-trained Llama-3.1 judge's, keeping Mol-LLaMA's LoRA adapters, encoders, projector and the embedding rows of
/// its two added tokens — what the reference's <c>MolLLaMA.import_judge</c> does, but strict. The reference copies
/// every judge tensor whose name and shape match, except LoRA tensors and <c>embed_tokens</c>, loads with
/// <c>strict=False</c> and prints only counts, so a shape mismatch or a missing tensor silently leaves Mol-LLaMA's own
/// weight in place. Here every judge tensor is copied or reported, every Mol-LLaMA tensor is kept or replaced, the
/// two models' architectures and vocabularies are compared, and any problem stops the import before weights are
/// written (the report names each one).
/// <para>
/// Vocabulary: the judge has the base vocabulary (<c>V − 2</c> rows) or already Mol-LLaMA's (<c>V</c>). Embeddings:
/// the judge's rows, then Mol-LLaMA's <c>[PAD]</c> and <c>&lt;mol&gt;</c> rows (the reference's rule). LM head: the
/// judge's rows; where the judge lacks the last two, Mol-LLaMA's (the reference takes whatever
/// <c>resize_token_embeddings</c> sampled at random — not reproducible, so this is recorded as a note). A Mol-LLaMA
/// checkpoint without base weights (its reference loader takes them from <c>llm_model</c>) gets the judge's whole
/// decoder, the two added rows being the mean of the judge's rows (noted).
/// </para>
/// </summary>
public static class MolLlamaJudgeImport
{
    private const string ReportFile = "import_report.json";

    private sealed record Output(string Name, ScalarType DType, long[] Shape, Func<Tensor> Produce);

    /// <summary>
    /// Plans the import and, when nothing is wrong, writes the judge to <paramref name="outputDirectory"/>
    /// (config.json with the judge's Llama config as <c>text_config</c>, model.safetensors, Mol-LLaMA's tokenizer and
    /// other side files, <c>import_report.json</c>). With problems only the report is written there and a typed
    /// error names them.
    /// </summary>
    public static JudgeImportReport Run(string molLlamaDirectory, string judgeDirectory, string outputDirectory)
    {
        ArgumentNullException.ThrowIfNull(molLlamaDirectory);
        ArgumentNullException.ThrowIfNull(judgeDirectory);
        ArgumentNullException.ThrowIfNull(outputDirectory);
        if (Path.GetFullPath(outputDirectory) == Path.GetFullPath(molLlamaDirectory) || Path.GetFullPath(outputDirectory) == Path.GetFullPath(judgeDirectory))
        {
            throw new JudgeHostException($"--out '{outputDirectory}' is one of the inputs; write the judge to a new directory.");
        }

        if (!MolLlamaConfig.IsMolLlama(molLlamaDirectory))
        {
            throw new JudgeHostException($"'{molLlamaDirectory}' is not a Mol-LLaMA checkpoint (config.json needs \"model_type\": \"mol_llama\"). Pass it to --mol-llama.");
        }

        var mol = MolLlamaConfig.Load(molLlamaDirectory);
        var judgeConfig = DecoderConfig.Load(judgeDirectory);
        if (judgeConfig.ModelType != "llama")
        {
            throw new JudgeHostException($"The judge in '{judgeDirectory}' is a '{judgeConfig.ModelType}' checkpoint; Mol-LLaMA's language model is a Llama, so the judge must be one (e.g. Flex-Llama-8B). Pass a Llama checkpoint to --judge.");
        }

        var report = new JudgeImportReport { MolLlama = molLlamaDirectory, Judge = judgeDirectory, Output = outputDirectory };
        using var molFiles = CheckpointFiles.Open(molLlamaDirectory);
        using var judgeFiles = CheckpointFiles.Open(judgeDirectory);
        CompareArchitectures(mol.Decoder, judgeConfig, report);
        CompareVocabularies(molLlamaDirectory, judgeDirectory, report);
        var outputs = Plan(mol, molFiles, judgeFiles, judgeConfig, report);

        Directory.CreateDirectory(outputDirectory);
        string reportPath = Path.Combine(outputDirectory, ReportFile);
        if (!report.Ok)
        {
            WriteReport(report, reportPath);
            throw new JudgeHostException(
                $"The judge cannot be imported: {report.Problems.Count} problem(s), e.g. {string.Join("; ", report.Problems.Take(3))}. "
                + $"Every one is listed in '{reportPath}'; no weights were written.");
        }

        WriteConfig(molLlamaDirectory, judgeDirectory, mol.Decoder.VocabSize, outputDirectory);
        foreach (string file in Directory.EnumerateFiles(molLlamaDirectory))
        {
            string name = Path.GetFileName(file);
            if (name != "config.json" && name != ReportFile && !name.EndsWith(".safetensors", StringComparison.Ordinal) && name != "model.safetensors.index.json")
            {
                File.Copy(file, Path.Combine(outputDirectory, name), overwrite: true);
            }
        }

        string weights = Path.Combine(outputDirectory, "model.safetensors");
        SafeTensorsWriter.Write(weights + ".tmp", outputs.Select(o => (o.Name, o.DType, o.Shape)).ToList(), i => outputs[i].Produce(), new Dictionary<string, string> { ["format"] = "pt" });
        File.Move(weights + ".tmp", weights, overwrite: true);
        WriteReport(report, reportPath);
        return report;
    }

    private static List<Output> Plan(MolLlamaConfig mol, CheckpointFiles molFiles, CheckpointFiles judgeFiles, DecoderConfig judgeConfig, JudgeImportReport report)
    {
        const string Llm = MolLlamaCheckpointKeys.LlmPrefix;
        string embedKey = MolLlamaCheckpointKeys.Llm("model.embed_tokens.weight");
        string headKey = MolLlamaCheckpointKeys.Llm("lm_head.weight");
        var lora = LoraTensorIndex.Scan(molFiles.Names, Llm, MolLlamaCheckpointKeys.AdapterName);
        report.Problems.AddRange(lora.Problems.Select(p => $"Mol-LLaMA LoRA tensor {p}"));
        bool molHasBase = molFiles.Names.Any(n => n.StartsWith(Llm, StringComparison.Ordinal) && !lora.TensorNames.Contains(n));
        var fromJudge = new Dictionary<string, Output>(StringComparer.Ordinal);     // by output name
        string Shape(long[] s) => $"[{string.Join(", ", s)}]";
        ScalarType DTypeFor(string dest, string judgeName) => molFiles.Contains(dest) ? molFiles.Entry(dest).DType : judgeFiles.Entry(judgeName).DType;

        // The judge's rows first, then Mol-LLaMA's last two ([PAD], <mol>) when the judge has the base vocabulary only.
        void Rows(string judgeName, string dest, bool replaceLastTwo, string what)
        {
            long[] judgeShape = judgeFiles.GetShape(judgeName);
            if (!molFiles.Contains(dest))
            {
                // An adapter-only Mol-LLaMA (the reference loads its decoder from llm_model): its [PAD]/<mol> rows exist
                // nowhere; fill them with the mean of the judge's rows, as the loader does for such a checkpoint.
                long vocab = mol.Decoder.VocabSize;
                if (judgeShape.Length != 2 || (judgeShape[0] != vocab && judgeShape[0] != vocab - 2))
                {
                    report.Problems.Add($"{judgeName} is {Shape(judgeShape)} in the judge; Mol-LLaMA's vocabulary has {vocab} tokens: the judge needs {vocab - 2} or {vocab} rows");
                    return;
                }

                var judgeDType = judgeFiles.Entry(judgeName).DType;
                fromJudge[dest] = new Output(dest, judgeDType, [vocab, judgeShape[1]], () =>
                {
                    using var scope = NewDisposeScope();
                    var rows = judgeFiles.Load(judgeName, ScalarType.Float32);                                  // [Vj, D]
                    var full = rows.shape[0] == vocab ? rows : cat([rows, rows.mean([0], keepdim: true).expand(2, rows.shape[1])], 0);   // [V, D]
                    return full.to(judgeDType).contiguous().MoveToOuterDisposeScope();
                });
                report.Copied.Add(new ImportCopy(judgeName, dest, judgeShape[0] == vocab ? null : "+ 2 rows ([PAD], <mol>) = the mean of the judge's rows"));
                if (judgeShape[0] != vocab)
                {
                    report.Notes.Add($"{dest}: Mol-LLaMA's checkpoint has no {what}, so the rows of [PAD] and <mol> are the mean of the judge's rows (the reference would draw them at random).");
                }

                return;
            }

            long[] molShape = molFiles.GetShape(dest);
            long v = molShape[0], vj = judgeShape[0];
            if (judgeShape.Length != 2 || judgeShape[1] != molShape[1] || (vj != v && vj != v - 2))
            {
                report.Problems.Add($"{judgeName} is {Shape(judgeShape)} in the judge; Mol-LLaMA's {what} is {Shape(molShape)}: the judge needs {v - 2} (base vocabulary) or {v} rows of width {molShape[1]}");
                return;
            }

            long fromJudgeRows = vj == v && !replaceLastTwo ? v : v - 2;
            var dtype = molFiles.Entry(dest).DType;
            fromJudge[dest] = new Output(dest, dtype, molShape, () =>
            {
                using var scope = NewDisposeScope();
                var judgeRows = judgeFiles.Load(judgeName, dtype).narrow(0, 0, fromJudgeRows);             // [k, D]
                var result = fromJudgeRows == v ? judgeRows : cat([judgeRows, molFiles.Load(dest, dtype).narrow(0, v - 2, 2)], 0);   // [V, D]
                return result.contiguous().MoveToOuterDisposeScope();
            });
            report.Copied.Add(new ImportCopy(judgeName, dest, fromJudgeRows == v ? null : $"rows 0..{fromJudgeRows - 1}"));
            if (fromJudgeRows < v)
            {
                report.Kept.Add(new ImportKeep(dest, $"rows {v - 2}..{v - 1} ([PAD], <mol>) from Mol-LLaMA"));
                if (!replaceLastTwo)
                {
                    report.Notes.Add($"{dest}: the judge has the base vocabulary ({vj} rows), so the LM-head rows of [PAD] and <mol> are Mol-LLaMA's; the reference would use the random rows resize_token_embeddings draws.");
                }
            }
        }

        foreach (string name in judgeFiles.Names)
        {
            if (LoraTensorIndex.IsLoraName(name))
            {
                report.Problems.Add($"{name}: the judge carries LoRA tensors; merge its adapter first (judgehost train merge-lora, or peft merge_and_unload)");
                continue;
            }

            if (name == "model.embed_tokens.weight")
            {
                Rows(name, embedKey, replaceLastTwo: true, "embed_tokens");
                if (judgeConfig.TieWordEmbeddings && !judgeFiles.Contains("lm_head.weight"))
                {
                    // A tied judge's head is its embedding (what its state_dict's lm_head.weight holds after resizing).
                    Rows(name, headKey, replaceLastTwo: false, "lm_head");
                }

                continue;
            }

            if (name == "lm_head.weight")
            {
                if (judgeConfig.TieWordEmbeddings)
                {
                    report.Problems.Add($"{name}: the judge's config ties the head to the embedding but the file also holds a head; use the config.json that belongs to these weights");
                    continue;
                }

                Rows(name, headKey, replaceLastTwo: false, "lm_head");
                continue;
            }

            string module = name.EndsWith(".weight", StringComparison.Ordinal) ? name[..^".weight".Length] : name;
            string dest = lora.Modules.ContainsKey(module) ? $"{Llm}{module}.base_layer.weight" : Llm + name;
            if (molFiles.Contains(dest))
            {
                if (!molFiles.GetShape(dest).SequenceEqual(judgeFiles.GetShape(name)))
                {
                    report.Problems.Add($"{name} is {Shape(judgeFiles.GetShape(name))} in the judge but {dest} is {Shape(molFiles.GetShape(dest))} in Mol-LLaMA (shape mismatch; the reference would silently keep Mol-LLaMA's)");
                    continue;
                }
            }
            else if (molHasBase)
            {
                report.Problems.Add($"{name}: the judge has it, Mol-LLaMA has no {dest} (unexpected tensor; the reference would drop it silently)");
                continue;
            }

            var dtype = DTypeFor(dest, name);
            var shape = judgeFiles.GetShape(name);
            string judgeName = name;
            fromJudge[dest] = new Output(dest, dtype, shape, () => judgeFiles.Load(judgeName, dtype));
            report.Copied.Add(new ImportCopy(name, dest));
        }

        // Every Mol-LLaMA tensor: replaced by the judge's, kept, or (a base weight the judge lacks) a problem.
        var outputs = new List<Output>();
        foreach (string name in molFiles.Names)
        {
            if (fromJudge.TryGetValue(name, out var replacement))
            {
                outputs.Add(replacement);
                report.Replaced.Add(name);
                continue;
            }

            string keptName = name;
            var entry = molFiles.Entry(name);
            outputs.Add(new Output(name, entry.DType, entry.Shape, () => molFiles.Load(keptName)));
            if (lora.TensorNames.Contains(name))
            {
                report.Kept.Add(new ImportKeep(name, "LoRA factor"));
            }
            else if (MolLlamaConfig.PluginPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)))
            {
                report.Kept.Add(new ImportKeep(name, name.StartsWith(MolLlamaCheckpointKeys.ProjectorPrefix, StringComparison.Ordinal) ? "projector" : "molecule encoder"));
            }
            else if (name.StartsWith(Llm, StringComparison.Ordinal))
            {
                report.Problems.Add($"{name}: a Mol-LLaMA base weight with no counterpart in the judge (the reference would keep Mol-LLaMA's, mixing the two models)");
            }
            else
            {
                report.Problems.Add($"{name}: neither decoder, LoRA, encoder nor projector (unexpected in a Mol-LLaMA checkpoint)");
            }
        }

        // A Mol-LLaMA checkpoint without base weights (the reference loads them from llm_model): the judge supplies them.
        outputs.AddRange(fromJudge.Values.Where(o => !molFiles.Contains(o.Name)));
        return outputs;
    }

    private static void CompareArchitectures(DecoderConfig mol, DecoderConfig judge, JudgeImportReport report)
    {
        var checks = new (string Key, object? Mol, object? Judge)[]
        {
            ("hidden_size", mol.HiddenSize, judge.HiddenSize),
            ("intermediate_size", mol.IntermediateSize, judge.IntermediateSize),
            ("num_hidden_layers", mol.NumHiddenLayers, judge.NumHiddenLayers),
            ("num_attention_heads", mol.NumAttentionHeads, judge.NumAttentionHeads),
            ("num_key_value_heads", mol.KeyValueHeads, judge.KeyValueHeads),
            ("head_dim", mol.HeadDim, judge.HeadDim),
            ("rms_norm_eps", mol.RmsNormEps, judge.RmsNormEps),
            ("rope_theta", mol.RopeTheta, judge.RopeTheta),
            ("rope_scaling", mol.RopeScaling, judge.RopeScaling),
            ("attention_bias", mol.AttentionBias, judge.AttentionBias),
            ("mlp_bias", mol.MlpBias, judge.MlpBias),
        };
        foreach (var (key, a, b) in checks)
        {
            if (!Equals(a, b) && !(a is RopeScaling ra && b is RopeScaling rb && ra with { MropeSection = null } == rb with { MropeSection = null }))
            {
                report.Problems.Add($"config {key}: Mol-LLaMA's Llama has {Describe(a)}, the judge {Describe(b)} (not the same architecture)");
            }
        }
    }

    private static string Describe(object? value) => value switch
    {
        null => "none",
        RopeScaling r => $"{r.Kind} (factor {r.Factor}, low {r.LowFreqFactor}, high {r.HighFreqFactor}, original {r.OriginalMaxPositionEmbeddings})",
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };

    // The judge's token ids must mean what Mol-LLaMA's mean: the reference pairs rows by index.
    private static void CompareVocabularies(string molDirectory, string judgeDirectory, JudgeImportReport report)
    {
        if (!File.Exists(Path.Combine(molDirectory, "tokenizer.json")) || !File.Exists(Path.Combine(judgeDirectory, "tokenizer.json")))
        {
            report.Notes.Add("The vocabularies were not compared: one of the two checkpoints has no tokenizer.json.");
            return;
        }

        var mol = HfTokenizer.Load(molDirectory);
        var judge = HfTokenizer.Load(judgeDirectory);
        var different = Enumerable.Range(0, judge.VocabSize).Where(i => mol.IdToToken(i) != judge.IdToToken(i)).ToList();
        if (different.Count > 0)
        {
            report.Problems.Add($"tokenizer: {different.Count} of the judge's {judge.VocabSize} token ids mean something else in Mol-LLaMA's tokenizer, e.g. id {different[0]} is '{judge.IdToToken(different[0])}' in the judge and '{mol.IdToToken(different[0])}' in Mol-LLaMA (not the same vocabulary)");
        }

        if (mol.TokenToId(MolLlamaConfig.MolToken) is null)
        {
            report.Problems.Add($"tokenizer: Mol-LLaMA's tokenizer has no {MolLlamaConfig.MolToken} token");
        }
    }

    private static void WriteConfig(string molDirectory, string judgeDirectory, int vocab, string outputDirectory)
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(molDirectory, "config.json")))!.AsObject();
        var text = JsonNode.Parse(File.ReadAllText(Path.Combine(judgeDirectory, "config.json")))!.AsObject();
        text["vocab_size"] = vocab;
        config["text_config"] = text;
        File.WriteAllText(Path.Combine(outputDirectory, "config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    private static void WriteReport(JudgeImportReport report, string path) =>
        File.WriteAllText(path, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");
}
