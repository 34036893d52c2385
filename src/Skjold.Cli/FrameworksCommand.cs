using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Skjold.Engine.Compliance;
using Spectre.Console;

namespace Skjold.Cli;

internal static class FrameworksCommand
{
    /// <summary><c>skjold frameworks</c>: the catalogs and how much of each Skjold checks automatically.</summary>
    public static Command Create(CliContext context)
    {
        var format = new Option<string>("--format", "-f") { Description = "table or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var id = new Argument<string?>("FRAMEWORK") { Description = "Show this framework's controls: the checks behind each, or manual and what to ask the provider", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("frameworks", "List the compliance frameworks Skjold maps its checks to, with how many controls are checked automatically and how many are manual; " +
            "with a framework id, list its controls.") { id, format };
        command.SetAction(parse =>
        {
            if (parse.GetValue(id) is { } fwId)
            {
                if (FrameworkCatalog.Default.Find(fwId) is not { } fw)
                {
                    context.Error.WriteLine($"error: unknown framework '{fwId}'; known: {string.Join(", ", FrameworkCatalog.Default.Frameworks.Select(f => f.Id))}");
                    return ExitCodes.UsageOrInputError;
                }

                return WriteControls(fw, parse.GetValue(format) == "json");
            }

            var rows = FrameworkCatalog.Default.Frameworks.Select(f => new FrameworkRow(f.Id, f.Name, f.Version, f.Controls.Count,
                f.Controls.Count(c => !f.IsManual(c.Id)), f.Controls.Count(c => f.IsManual(c.Id)), f.ChecksByControl.Values.SelectMany(x => x).Distinct().Count())).ToList();
            if (parse.GetValue(format) == "json")
            {
                context.Out.WriteLine(JsonSerializer.Serialize(rows, ReportJsonContext.Default.ListFrameworkRow));
                return ExitCodes.Ok;
            }

            var console = Skjold.Reports.PlainConsole.Create(context.Out, false, context.TerminalWidth ?? 1_000_000);
            console.Profile.Width = 160;
            var table = new Table().Border(TableBorder.Simple);
            foreach (var c in new[] { "ID", "Framework", "Version", "Controls", "Checked by Skjold", "Manual", "Checks mapped" })
            {
                table.AddColumn(c);
            }

            foreach (var r in rows)
            {
                table.AddRow(r.Id, r.Name, r.Version, r.Controls.ToString(CultureInfo.InvariantCulture), $"{r.Automated} ({100.0 * r.Automated / r.Controls:0}%)",
                    r.Manual.ToString(CultureInfo.InvariantCulture), r.Checks.ToString(CultureInfo.InvariantCulture));
            }

            console.Write(table);
            console.WriteLine("Manual controls are met by attestations in skjold.yaml (attestations:); see docs/compliance.md. Controls of one framework: skjold frameworks ID.");
            return ExitCodes.Ok;
        });
        return command;

        int WriteControls(Framework fw, bool json)
        {
            var rows = fw.Controls.Select(c => new ControlRow(c.Id, c.Title, c.Group, fw.IsManual(c.Id) ? "manual" : "automated", [.. fw.ChecksOf(c.Id)], [.. c.Questions])).ToList();
            if (json)
            {
                context.Out.WriteLine(JsonSerializer.Serialize(rows, ReportJsonContext.Default.ListControlRow));
                return ExitCodes.Ok;
            }

            context.Out.WriteLine($"{fw.Title} ({fw.Id}): {fw.Controls.Count} controls, source: {fw.Source}");
            foreach (var r in rows)
            {
                context.Out.WriteLine();
                context.Out.WriteLine($"{r.Id}  {r.Title}" + (r.Group is null ? string.Empty : $"  [{r.Group}]"));
                context.Out.WriteLine(r.Checks.Count == 0 ? "    manual: met by an attestation (attestations: in skjold.yaml)" : $"    checks: {string.Join(", ", r.Checks)}");
                foreach (var q in r.ProviderQuestions)
                {
                    context.Out.WriteLine($"    ask the provider: {q}");
                }
            }

            return ExitCodes.Ok;
        }
    }
}

internal sealed record FrameworkRow(string Id, string Name, string Version, int Controls, int Automated, int Manual, int Checks);

internal sealed record ControlRow(string Id, string Title, string? Group, string Kind, List<string> Checks, List<string> ProviderQuestions);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(List<FrameworkRow>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(List<ControlRow>))]
internal sealed partial class ReportJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
