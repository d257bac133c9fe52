using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using JudgeHost.Abstractions;

namespace JudgeHost.Pipelines;

/// <summary>The preference-data formats <c>dpo</c> writes.</summary>
public enum DpoExportFormat
{
    /// <summary>TRL DPOTrainer, conversational preference: <c>prompt</c>/<c>chosen</c>/<c>rejected</c> message lists, <c>images</c> when the prompt has images.</summary>
    Trl,

    /// <summary>LLaMA-Factory sharegpt preference (<c>ranking: true</c>): <c>conversations</c>, <c>chosen</c>, <c>rejected</c>, <c>system</c>, <c>images</c>/<c>videos</c>/<c>audios</c>.</summary>
    LlamaFactory,

    /// <summary>The Mol-LLaMA DPO trainer's file (Instructionv2Dataset): <c>cid</c>, <c>names</c>, <c>task_type</c>, <c>messages</c>, <c>chosen</c>, <c>rejected</c>, plus <c>smiles</c>.</summary>
    MolLlama,
}

/// <summary>
/// Turns kept pairs into the records each trainer reads. <see cref="Check"/> says up front (before any judging)
/// when a prompt cannot be written in a format, so the prompt fails with a clear error instead of being judged and
/// then silently left out.
/// </summary>
public static partial class DpoExports
{
    /// <summary>Mol-LLaMA expands each <c>&lt;mol&gt;</c> of its data to 8 query-token placeholders (<c>mol_prompt</c>).</summary>
    public const int MolTokensPerMolecule = 8;

    private const string MolToken = "<mol>";

    /// <summary>Why <paramref name="item"/> cannot be written as <paramref name="format"/>, or null when it can.</summary>
    public static string? Check(DpoExportFormat format, PromptItem item)
    {
        switch (format)
        {
            case DpoExportFormat.Trl:
                return item.Media.FirstOrDefault(m => m.Modality != "image") is { } m
                    ? $"prompt '{item.Id}' has {m.Modality} media; TRL's preference format carries only images. Export it with --llamafactory instead, or drop the item."
                    : item.Media.FirstOrDefault(x => x.Path is null) is { } inline
                        ? $"prompt '{item.Id}' has an image given inline, not as a path; TRL's images column needs paths."
                        : null;
            case DpoExportFormat.LlamaFactory:
                return item.Media.FirstOrDefault(m => m.Modality is not ("image" or "video" or "audio") || m.Path is null) is { } bad
                    ? $"prompt '{item.Id}' has {bad.Modality} media {(bad.Path is null ? "given inline" : "")}; LLaMA-Factory has columns only for image, video and audio files. Use --mol-llama for molecules, or drop the item."
                    : null;
            case DpoExportFormat.MolLlama:
                if (item.Cid is not { ValueKind: JsonValueKind.String or JsonValueKind.Number })
                {
                    return $"prompt '{item.Id}' has no \"cid\" (string or number); the Mol-LLaMA trainer looks the molecule up by cid in pubchem-molecules.json. Add it.";
                }

                try
                {
                    _ = MolMessages(item);
                    return null;
                }
                catch (JudgeHostException e)
                {
                    return e.Message;
                }

            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown export format.");
        }
    }

    /// <summary>One record of <paramref name="format"/> for a kept pair of <paramref name="item"/>.</summary>
    public static JsonObject Record(DpoExportFormat format, PromptItem item, DpoPair pair) => format switch
    {
        DpoExportFormat.Trl => Trl(item, pair),
        DpoExportFormat.LlamaFactory => LlamaFactory(item, pair),
        DpoExportFormat.MolLlama => MolLlama(item, pair),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown export format."),
    };

    /// <summary>The <c>dataset_info.json</c> entry that registers a LLaMA-Factory export named <paramref name="fileName"/>.</summary>
    public static JsonObject LlamaFactoryDatasetInfo(string name, string fileName) => new()
    {
        [name] = new JsonObject
        {
            ["file_name"] = fileName,
            ["formatting"] = "sharegpt",
            ["ranking"] = true,
            ["columns"] = new JsonObject
            {
                ["messages"] = "conversations",
                ["chosen"] = "chosen",
                ["rejected"] = "rejected",
                ["system"] = "system",
                ["images"] = "images",
                ["videos"] = "videos",
                ["audios"] = "audios",
            },
        },
    };

    private static JsonObject Trl(PromptItem item, DpoPair pair)
    {
        var images = item.Media.Where(m => m.Modality == "image").Select(m => m.Path!).ToArray();
        var prompt = new JsonArray();
        if (item.PolicySystem is { Length: > 0 } system)
        {
            prompt.Add(Message("system", images.Length > 0 ? TextParts(system) : system));
        }

        // With images every content is a list of typed parts ({"type": "image"} where an image goes), as TRL's
        // vision DPO expects; without, plain strings.
        JsonNode user = images.Length > 0
            ? new JsonArray([.. images.Select(_ => (JsonNode)new JsonObject { ["type"] = "image" }), new JsonObject { ["type"] = "text", ["text"] = item.Question }])
            : item.Question;
        prompt.Add(Message("user", user));
        var record = new JsonObject
        {
            ["prompt"] = prompt,
            ["chosen"] = new JsonArray(Message("assistant", images.Length > 0 ? TextParts(pair.Chosen) : pair.Chosen)),
            ["rejected"] = new JsonArray(Message("assistant", images.Length > 0 ? TextParts(pair.Rejected) : pair.Rejected)),
        };
        if (images.Length > 0)
        {
            record["images"] = new JsonArray([.. images.Select(p => (JsonNode)p)]);
        }

        return record;
    }

    private static JsonObject LlamaFactory(PromptItem item, DpoPair pair)
    {
        // Placeholders in media order, as LLaMA-Factory's mm_plugin counts them against each column.
        string placeholders = string.Concat(item.Media.Select(m => $"<{m.Modality}>"));
        JsonArray Paths(string modality) => new([.. item.Media.Where(m => m.Modality == modality).Select(m => (JsonNode)m.Path!)]);
        return new JsonObject
        {
            ["conversations"] = new JsonArray(new JsonObject { ["from"] = "human", ["value"] = placeholders + item.Question }),
            ["chosen"] = new JsonObject { ["from"] = "gpt", ["value"] = pair.Chosen },
            ["rejected"] = new JsonObject { ["from"] = "gpt", ["value"] = pair.Rejected },
            ["system"] = item.PolicySystem ?? "",
            ["images"] = Paths("image"),
            ["videos"] = Paths("video"),
            ["audios"] = Paths("audio"),
        };
    }

    private static JsonObject MolLlama(PromptItem item, DpoPair pair)
    {
        var messages = new JsonArray([.. MolMessages(item).Select(m => (JsonNode)Message(m.Role, m.Content))]);
        var record = new JsonObject
        {
            ["cid"] = JsonNode.Parse(item.Cid!.Value.GetRawText()),
            ["names"] = item.Names is { ValueKind: JsonValueKind.Array } names ? JsonNode.Parse(names.GetRawText())
                : item.Names is { ValueKind: JsonValueKind.String } one ? new JsonArray(one.GetString())
                : new JsonArray(),
            ["task_type"] = item.TaskType ?? "",
            ["messages"] = messages,
            ["chosen"] = pair.Chosen,
            ["rejected"] = pair.Rejected,
        };
        if (item.MoleculeSmiles is { } smiles)
        {
            record["smiles"] = smiles;
        }

        return record;
    }

    /// <summary>
    /// The policy chat as Mol-LLaMA stores it: the system turn (when there is one) and the first user turn only
    /// (single turn, as the reference's generate.py), with each molecule as exactly 8 consecutive <c>&lt;mol&gt;</c>
    /// tokens — the trainer overwrites exactly those positions with the Q-Former's 8 query outputs.
    /// </summary>
    public static IReadOnlyList<Pipelines.ChatTurn> MolMessages(PromptItem item)
    {
        var turns = new List<Pipelines.ChatTurn>();
        if (item.PolicySystem is { } system)
        {
            turns.Add(new("system", system));
        }

        string user = item.Messages?.FirstOrDefault(m => m.Role == "user")?.Content ?? item.Question;
        int runs = MolRun().Count(user);
        if (runs == 0)
        {
            throw new JudgeHostException($"prompt '{item.Id}' has no <mol> placeholder in its user turn; Mol-LLaMA splices the molecule at <mol>. Put \"<mol>\" where the molecule goes.");
        }

        if (runs != 1)
        {
            throw new JudgeHostException($"prompt '{item.Id}' has {runs} separate <mol> placeholders; the Mol-LLaMA DPO trainer takes exactly one molecule per sample.");
        }

        int count = MolRun().Match(user).Length / MolToken.Length;
        if (count is not (1 or MolTokensPerMolecule))
        {
            throw new JudgeHostException($"prompt '{item.Id}' has a run of {count} <mol> tokens; give one <mol> (expanded here to {MolTokensPerMolecule}) or exactly {MolTokensPerMolecule}.");
        }

        turns.Add(new("user", MolRun().Replace(user, string.Concat(Enumerable.Repeat(MolToken, MolTokensPerMolecule)))));
        return turns;
    }

    private static JsonObject Message(string role, JsonNode content) => new() { ["role"] = role, ["content"] = content };

    private static JsonArray TextParts(string text) => new(new JsonObject { ["type"] = "text", ["text"] = text });

    [GeneratedRegex("(?:<mol>)+")]
    private static partial Regex MolRun();
}
