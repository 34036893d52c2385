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
        var files = new Argument<string[]>("FILE") { Description = "Audit log files written by the API server's log backend (one JSON Event or EventList per line); - for stdin", Arity = ArgumentArity.ZeroOrMore };
        var dataDir = new Option<string?>("--data-dir") { Description = "Hunt over the sealed audit trail in this directory instead of files (each event's payload checked against its leaf hash)" };
        var postgres = new Option<string?>("--postgres") { Description = "Hunt over the sealed audit trail in this PostgreSQL database" };
        var since = new Option<string?>("--since") { Description = "Only events from this time on: a duration back from now (24h, 30d) or a UTC time (2026-11-01T00:00:00Z)" };
        var sources = new RulesCommand.Sources();
        var format = new Option<string>("--format", "-f") { Description = "table or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var failOn = new Option<string>("--fail-on") { Description = "Exit 1 when an alert has this priority or a more severe one", DefaultValueFactory = _ => "warning" };
        failOn.AcceptOnlyFromAmong(Priorities);
        var namespacesFile = DetectionOptions.NamespacesFileOption();
        var command = new Command("detect", "Run Falco rules for the k8s_audit source over audit log files and print the alerts, as Falco does with its k8saudit plugin.") { files, format, failOn, dataDir, postgres, since, namespacesFile };
        sources.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            NamespaceLabelSource? labels;
            try
            {
                labels = NamespaceLabelSource.FromFile(parse.GetValue(namespacesFile), context);
            }
            catch (InvalidOperationException ex)
            {
                context.Error.WriteLine($"error: --namespaces-file: {ex.Message}");
                return ExitCodes.UsageOrInputError;
            }

            if (sources.Load(parse, context, labels) is not { } set)
            {
                return ExitCodes.UsageOrInputError;
            }

            var threshold = (FalcoPriority)Array.IndexOf(Priorities, parse.GetValue(failOn));
            var alerts = new List<(string File, long Event, string? Time, FalcoAlert Alert)>();
            long events = 0, rejected = 0;
            DateTimeOffset? from;
            try
            {
                from = Skjold.Audit.Query.AuditQuestions.ParseTime(parse.GetValue(since), "--since", context.Time.GetUtcNow());
            }
            catch (FormatException ex)
            {
                context.Error.WriteLine($"error: {ex.Message}");
                return ExitCodes.UsageOrInputError;
            }

            void Judge(string where, long index, JsonElement e)
            {
                var time = e.TryGetProperty("stageTimestamp", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                if (from is { } f && (time is null || !DateTimeOffset.TryParse(time, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when) || when < f))
                {
                    return;
                }

                events++;
                // Hunting: stateful windows are measured on each event's own time.
                foreach (var a in set.Evaluate(e, Skjold.Detection.Skjold.DetectionEngine.EventTime(e) ?? context.Time.GetUtcNow()))
                {
                    alerts.Add((where, index, time, a));
                }
            }

            var inputs = parse.GetValue(files) ?? [];
            var trail = parse.GetValue(dataDir) is not null || parse.GetValue(postgres) is not null;
            if (inputs.Length == 0 == !trail)
            {
                context.Error.WriteLine("error: give audit log files, or --data-dir/--postgres for the sealed trail (not both)");
                return ExitCodes.UsageOrInputError;
            }

            if (trail)
            {
                var location = new Skjold.Audit.AuditStoreLocation
                {
                    DataDirectory = Path.GetFullPath(parse.GetValue(dataDir) ?? ".", context.WorkingDirectory),
                    Postgres = parse.GetValue(postgres),
                };
                try
                {
                    await using var store = Skjold.Audit.AuditLogFactory.OpenExistingStore(location);
                    var (size, _) = await store.StateAsync(ct).ConfigureAwait(false);
                    await foreach (var leaf in store.ReadLeavesAsync(0, size, payloads: true, ct).ConfigureAwait(false))
                    {
                        if (leaf.Payload is null)
                        {
                            continue; // purged by retention
                        }

                        if (!Skjold.Audit.Merkle.MerkleHash.Leaf(leaf.Payload).AsSpan().SequenceEqual(leaf.LeafHash))
                        {
                            // Erased under GDPR (payload rewritten) or altered: never judged as if it were the sealed event.
                            rejected++;
                            context.Error.WriteLine($"warning: leaf {leaf.Index}: payload does not match its leaf hash (erased, or altered: run skjold audit verify); skipped");
                            continue;
                        }

                        using var doc = JsonDocument.Parse(leaf.Payload);
                        if (!(doc.RootElement.TryGetProperty("requestURI", out var u) && u.GetString() is { } uri && uri.StartsWith("skjold://", StringComparison.Ordinal)))
                        {
                            Judge($"leaf {leaf.Index}", leaf.Index, doc.RootElement);
                        }
                    }
                }
                catch (Exception ex) when (ex is Skjold.Audit.Storage.AuditStoreException or System.Data.Common.DbException or IOException)
                {
                    context.Error.WriteLine($"error: {ex.Message}");
                    return ExitCodes.UsageOrInputError;
                }
            }

            foreach (var file in inputs)
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
                    var n = 0L;
                    foreach (var e in AuditEventLines.Read(reader, line =>
                    {
                        rejected++;
                        context.Error.WriteLine($"warning: {file}:{line}: not an audit event; skipped");
                    }))
                    {
                        Judge(file, n++, e);
                    }
                }
            }

            if (parse.GetValue(format) == "json")
            {
                context.Out.WriteLine(Summary.Json(new JsonObject
                {
                    ["events"] = events,
                    ["rejectedLines"] = rejected,
                    ["rules"] = set.Rules.Rules.Count(r => r.Source == FalcoRuleSet.Source) + set.Stateful.Count,
                    ["alerts"] = new JsonArray([.. alerts.Select(x => (JsonNode)new JsonObject
                    {
                        ["time"] = x.Time,
                        ["rule"] = x.Alert.Rule,
                        ["priority"] = x.Alert.Priority.ToString(),
                        ["output"] = x.Alert.Output,
                        ["tags"] = new JsonArray([.. x.Alert.Tags.Select(tag => (JsonNode)tag)]),
                        ["source"] = x.Alert.Source,
                        ["where"] = x.File,
                    })]),
                }));
            }
            else
            {
                foreach (var (_, _, time, a) in alerts)
                {
                    context.Out.WriteLine($"{time ?? "-"} {FalcoRuleSet.PriorityName(a.Priority),-13} {a.Rule}: {a.Output}");
                }

                context.Error.WriteLine($"{events.ToString("N0", CultureInfo.InvariantCulture)} events, {alerts.Count.ToString("N0", CultureInfo.InvariantCulture)} alerts" +
                    (rejected > 0 ? $", {rejected} lines were not audit events" : string.Empty));
            }

            return alerts.Exists(x => x.Alert.Priority <= threshold) ? ExitCodes.Findings : ExitCodes.Ok;
        });
        return command;
    }
}
