using System.CommandLine;
using System.Text.Json;
using JudgeHost.Hosting;
using JudgeHost.Plugins;

namespace JudgeHost.Cli;

/// <summary><c>judgehost plugins list</c>.</summary>
public static class PluginsCommand
{
    private static readonly Option<bool> Json = new("--json") { Description = "One JSON object per plugin instead of a table." };

    public static Command Build()
    {
        var list = new Command("list", "List plugins in the plugin folder: name, modalities, version, status, path, reason.");
        list.Options.Add(Json);
        list.SetAction((parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            using var app = JudgeHostApp.Create(GlobalOptions.ToSettings(parse), parse.InvocationConfiguration.Error);
            if (parse.GetValue(Json))
            {
                foreach (var e in app.Catalog.Entries)
                {
                    output.WriteLine(JsonSerializer.Serialize(new
                    {
                        name = e.Name,
                        modalities = e.Modalities,
                        version = e.Version?.ToString(),
                        contract = e.ContractVersion?.ToString(2),
                        status = e.Status.ToString().ToLowerInvariant(),
                        path = e.Path,
                        reason = e.Reason,
                    }));
                }
            }
            else
            {
                WriteTable(app.Catalog, output);
            }

            return Task.FromResult(CliApp.Ok);
        });

        var plugins = new Command("plugins", "Inspect modality plugins.");
        plugins.Subcommands.Add(list);
        return plugins;
    }

    private static void WriteTable(PluginCatalog catalog, TextWriter output)
    {
        output.WriteLine($"Plugin folder: {catalog.Directory}");
        if (catalog.Entries.Count == 0)
        {
            output.WriteLine("No plugins found.");
            return;
        }

        string[] header = ["NAME", "MODALITIES", "VERSION", "STATUS", "PATH", "REASON"];
        var rows = catalog.Entries.Select(e => new[]
        {
            e.Name, e.Modalities.Count == 0 ? "-" : string.Join(",", e.Modalities), e.Version?.ToString() ?? "-",
            e.Status.ToString().ToLowerInvariant(), e.Path, e.Reason ?? "",
        }).ToList();
        int[] widths = header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
        output.WriteLine(Format(header, widths));
        foreach (var row in rows)
        {
            output.WriteLine(Format(row, widths));
        }
    }

    private static string Format(string[] cells, int[] widths) =>
        string.Join("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]))).TrimEnd();
}
