using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;
using Skjold.Engine.Policy;
using Spectre.Console;

namespace Skjold.Cli;

/// <summary><c>skjold checks</c>: every check with its metadata, and whether the active config enables it.</summary>
internal static class ChecksCommand
{
    public static Command Create(CliContext context)
    {
        var format = new Option<string>("--format", "-f") { Description = "Output format: table or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var config = new Option<string?>("--config", "-c") { Description = "Configuration file to show enabled state and severities for" };
        var command = new Command("checks", "List every check Skjold runs, with id, severity, title and remediation.") { format, config };
        command.SetAction(parse => Run(parse.GetValue(format)!, parse.GetValue(config), context));
        return command;
    }

    private static int Run(string format, string? configPath, CliContext context)
    {
        ScanPolicy policy;
        try
        {
            policy = ConfigLoader.Load(configPath, context.WorkingDirectory);
        }
        catch (ConfigException ex)
        {
            context.Error.WriteLine($"error: invalid configuration: {ex.Message}");
            return ExitCodes.UsageOrInputError;
        }

        var catalog = CheckCatalog.Default;
        if (format == "json")
        {
            using var stream = new MemoryStream();
            using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                w.WriteStartObject();
                w.WriteStartArray("checks");
                foreach (var c in catalog.All)
                {
                    w.WriteStartObject();
                    w.WriteString("id", c.Id);
                    w.WriteString("title", c.Title);
                    w.WriteString("severity", policy.SeverityOf(c).ToName());
                    w.WriteString("category", c.Category);
                    w.WriteString("description", c.Description);
                    w.WriteString("remediation", c.Remediation);
                    w.WriteBoolean("enabled", policy.IsEnabled(c));
                    w.WriteStartObject("controls");
                    foreach (var (framework, ids) in c.Controls)
                    {
                        w.WriteStartArray(framework);
                        foreach (var id in ids)
                        {
                            w.WriteStringValue(id);
                        }

                        w.WriteEndArray();
                    }

                    w.WriteEndObject();
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            context.Out.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
            return ExitCodes.Ok;
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = context.ColorOutput ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = context.ColorOutput ? ColorSystemSupport.Standard : ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(context.Out),
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = Math.Max(120, console.Profile.Width);
        var table = new Table().Border(TableBorder.Rounded).Expand();
        table.AddColumn(new TableColumn("Check").NoWrap());
        table.AddColumn(new TableColumn("Severity").NoWrap());
        table.AddColumn("Title");
        table.AddColumn(new TableColumn("On").NoWrap());
        foreach (var c in catalog.All)
        {
            table.AddRow(new Text(c.Id), new Text(policy.SeverityOf(c).ToName()), new Text(c.Title), new Text(policy.IsEnabled(c) ? "yes" : "no"));
        }

        console.Write(table);
        console.WriteLine($"{catalog.All.Count} checks. Details: skjold checks --format json");
        return ExitCodes.Ok;
    }
}
