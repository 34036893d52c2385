using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Skjold.Detection.Falco;

namespace Skjold.Cli;

/// <summary><c>skjold detect</c>: Falco k8s_audit rules over audit log files, as Falco runs them over a trace file.</summary>
internal static class DetectCommand
{
    private static readonly string[] Priorities = ["emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug"];

    public static Command Create(CliContext context)
    {
        var files = new Argument<string[]>("FILE") { Description = "Audit log files written by the API server's log backend (one JSON Event or EventList per line); - for stdin", Arity = ArgumentArity.OneOrMore };
        var rules = new Option<string[]>("--rules", "-r") { Description = "Falco rule files for the k8s_audit source, loaded in order (later files append to and override earlier ones)", Required = true, AllowMultipleArgumentsPerToken = true };
        var format = new Option<string>("--format", "-f") { Description = "table or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var failOn = new Option<string>("--fail-on") { Description = "Exit 1 when an alert has this priority or a more severe one", DefaultValueFactory = _ => "warning" };
        failOn.AcceptOnlyFromAmong(Priorities);
        var command = new Command("detect", "Run Falco rules for the k8s_audit source over audit log files and print the alerts, as Falco does with its k8saudit plugin.") { files, rules, format, failOn };
        command.SetAction(parse =>
        {
            var set = new FalcoRuleSet();
            foreach (var file in parse.GetValue(rules) ?? [])
            {
                try
                {
                    set.Load(File.ReadAllText(Path.GetFullPath(file, context.WorkingDirectory)), file);
                }
                catch (Exception ex) when (ex is RuleLoadException or IOException or UnauthorizedAccessException)
                {
                    context.Error.WriteLine($"error: {ex.Message}");
                    return ExitCodes.UsageOrInputError;
                }
            }

            var threshold = (FalcoPriority)Array.IndexOf(Priorities, parse.GetValue(failOn));
            var alerts = new List<(string File, long Event, string? Time, FalcoAlert Alert)>();
            long events = 0, rejected = 0;
            foreach (var file in parse.GetValue(files) ?? [])
            {
                TextReader reader;
                try
                {
                    reader = file == "-" ? new StreamReader(context.Stdin()) : new StreamReader(Path.GetFullPath(file, context.WorkingDirectory));
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    context.Error.WriteLine($"error: {file}: {ex.Message}");
                    return ExitCodes.UsageOrInputError;
                }

                using (reader)
                {
                    foreach (var e in AuditEventLines.Read(reader, line =>
                    {
                        rejected++;
                        context.Error.WriteLine($"warning: {file}:{line}: not an audit event; skipped");
                    }))
                    {
                        events++;
                        var time = e.TryGetProperty("stageTimestamp", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                        foreach (var a in set.Evaluate(e))
                        {
                            alerts.Add((file, events, time, a));
                        }
                    }
                }
            }

            if (parse.GetValue(format) == "json")
            {
                context.Out.WriteLine(Summary.Json(new JsonObject
                {
                    ["events"] = events,
                    ["rejectedLines"] = rejected,
                    ["rules"] = set.Rules.Count(r => r.Source == FalcoRuleSet.Source),
                    ["alerts"] = new JsonArray([.. alerts.Select(x => (JsonNode)new JsonObject
                    {
                        ["time"] = x.Time,
                        ["rule"] = x.Alert.Rule,
                        ["priority"] = x.Alert.Priority.ToString(),
                        ["output"] = x.Alert.Output,
                        ["tags"] = new JsonArray([.. x.Alert.Tags.Select(tag => (JsonNode)tag)]),
                        ["source"] = x.Alert.Source,
                        ["file"] = x.File,
                    })]),
                }));
            }
            else
            {
                foreach (var (_, _, time, a) in alerts)
                {
                    context.Out.WriteLine($"{time ?? "-"} {a.Priority.ToString().ToUpperInvariant(),-13} {a.Rule}: {a.Output}");
                }

                context.Error.WriteLine($"{events.ToString("N0", CultureInfo.InvariantCulture)} events, {alerts.Count.ToString("N0", CultureInfo.InvariantCulture)} alerts" +
                    (rejected > 0 ? $", {rejected} lines were not audit events" : string.Empty));
            }

            return alerts.Exists(x => x.Alert.Priority <= threshold) ? ExitCodes.Findings : ExitCodes.Ok;
        });
        return command;
    }
}
