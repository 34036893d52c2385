using System.CommandLine;
using Skjold.Audit.Events;
using Skjold.Audit.Export;
using Skjold.Audit.Signing;
using Skjold.Audit.Query;

namespace Skjold.Cli;

/// <summary><c>skjold audit query and audit export</c>.</summary>
internal static partial class AuditCommand
{
    private static Command Query(CliContext context)
    {
        var store = new AuditStoreOptions();
        var filters = new QueryOptions { Clock = context.Time };
        var format = new Option<string>("--format", "-f") { Description = "table, json or csv", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json", "csv");
        var publicKey = new Option<string?>("--public-key") { Description = "Public key (PEM) that confirms the answer (default: the key directory's audit-signing-key.pub.pem)" };
        var around = new Option<string?>("--around") { Description = "What the identity behind alert ID did around the time it fired: the user of the event a rule fired on, or, for a Falco alert, the pod's service account and requests on the pod" };
        var window = new Option<string>("--window") { Description = "With --around: how far before and after the alert (such as 15m, 1h)", DefaultValueFactory = _ => "15m" };
        var command = new Command("query", """
            Search the audit trail by time, user, group, verb, resource, namespace, name, subresource, source IP and response code, or ask a named question. Every answer is confirmed against the signed tree: a row that was edited, or an index that would leave events out, makes the query fail (exit 1) naming the leaf.
            Examples:
              skjold audit query --who-read-secret payments/db-password --since 7d
              skjold audit query --user alice --verb delete --format csv
              skjold audit query --around 3f2a9c41 --window 30m
            """) { format, publicKey, around, window };
        filters.AddTo(command);
        store.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            if (!filters.TryBuild(parse, context.Error, out var query))
            {
                return ExitCodes.UsageOrInputError;
            }

            await using var s = store.ExistingStore(parse, context);
            var keyPath = parse.GetValue(publicKey) is { } pk ? Path.GetFullPath(pk, context.WorkingDirectory) : Path.Combine(store.KeyDirectory(parse, context), AuditKeys.PublicKeyFile);
            if (!File.Exists(keyPath))
            {
                await context.Error.WriteLineAsync($"error: public key {keyPath} not found (give --public-key): answers are confirmed against the signed tree").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            using var verifier = new TreeHeadVerifier(await File.ReadAllTextAsync(keyPath, ct).ConfigureAwait(false));
            ConfirmedAnswer answer;
            try
            {
                var confirmed = new ConfirmedQuery(s, verifier);
                if (parse.GetValue(around) is { } alertId)
                {
                    if (!Skjold.Alerts.Configuration.OutputsConfig.TryParseDuration(parse.GetValue(window)!, out var span))
                    {
                        await context.Error.WriteLineAsync($"error: --window '{parse.GetValue(window)}' is not a duration such as 15m or 2h").ConfigureAwait(false);
                        return ExitCodes.UsageOrInputError;
                    }

                    var resolved = await AroundAlert.ResolveAsync(confirmed, query, alertId, span, ct).ConfigureAwait(false);
                    await context.Error.WriteLineAsync($"note: alert at leaf {resolved.AlertLeaf} ({resolved.Rule}, {resolved.Time:u}): {resolved.Subject}, {resolved.Query.Since:u} to {resolved.Query.Until:u}").ConfigureAwait(false);
                    var all = await confirmed.RunAsync(resolved.Query with { Limit = int.MaxValue - 1 }, payloads: true, ct).ConfigureAwait(false);
                    var matching = all.Rows.Where(r => r.Payload is { } p && Matches(resolved, p)).Take(query.Limit + 1).ToList();
                    answer = all with { Rows = matching };
                }
                else
                {
                    // One more than the limit, to say whether more events match than are shown.
                    answer = await confirmed.RunAsync(query with { Limit = query.Limit + 1 }, payloads: false, ct).ConfigureAwait(false);
                }
            }
            catch (KeyNotFoundException ex)
            {
                await context.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }
            catch (AuditQueryTamperedException ex)
            {
                await context.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.Findings;
            }
            catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException)
            {
                await context.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            if (answer.HasUnsigned)
            {
                await context.Error.WriteLineAsync($"note: {answer.UnsignedRows} of the events are after the last signed tree head (size {answer.SignedSize}): checked against their payloads, not yet provable").ConfigureAwait(false);
            }

            var more = answer.Rows.Count > query.Limit;
            await WriteRecordsAsync([.. answer.Rows.Take(query.Limit).Select(r => r.Record)], parse.GetValue(format)!, context.Out).ConfigureAwait(false);
            if (more)
            {
                await context.Error.WriteLineAsync($"note: the {(query.Descending ? "newest" : "first")} {query.Limit} matching events are shown and more match; raise --limit{(query.Descending ? string.Empty : ", or --newest-first for the latest")}").ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static bool Matches(AroundAlert.Resolution resolved, byte[] payload)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(payload);
        return resolved.Matches(doc.RootElement);
    }

    internal static async Task WriteRecordsAsync(IReadOnlyList<AuditRecord> rows, string format, TextWriter output)
    {
        switch (format)
        {
            case "json":
                await output.WriteLineAsync(AuditRecordFormats.Json(rows)).ConfigureAwait(false);
                break;
            case "csv":
                await AuditRecordFormats.WriteCsvAsync(rows, output).ConfigureAwait(false);
                break;
            default:
                await output.WriteLineAsync($"{"INDEX",8}  {"TIME (UTC)",-20}  {"VERB",-8}  {"USER",-32}  {"RESOURCE",-36}  {"CODE",4}  SOURCE").ConfigureAwait(false);
                foreach (var r in rows)
                {
                    var what = r.Purged ? "(purged)" : $"{r.Resource}{(r.Subresource is null ? "" : "/" + r.Subresource)} {r.Namespace}{(r.Namespace is null ? "" : "/")}{r.Name}";
                    await output.WriteLineAsync($"{r.Index,8}  {r.Time:yyyy-MM-dd HH:mm:ss}  {r.Verb,-8}  {Cut(r.Username, 32),-32}  {Cut(what, 36),-36}  {r.Code,4}  {r.SourceIp}").ConfigureAwait(false);
                }

                await output.WriteLineAsync($"{rows.Count} events").ConfigureAwait(false);
                break;
        }
    }

    private static string Cut(string? s, int n) => s is null ? "" : s.Length <= n ? s : s[..(n - 1)] + "~";

    private static Command Export(CliContext context)
    {
        var store = new AuditStoreOptions();
        var filters = new QueryOptions { Clock = context.Time };
        var output = new Option<string>("--output", "-o") { Description = "Bundle file to write", Required = true };
        var command = new Command("export", "Export matching events with inclusion proofs and a signed tree head, as a bundle an auditor verifies offline.") { output };
        filters.AddTo(command);
        store.AddTo(command);
        command.SetAction(async (parse, ct) => await WithLogAsync(store, parse, context, ct, async (log, _) =>
        {
            if (!filters.TryBuild(parse, context.Error, out var query))
            {
                return ExitCodes.UsageOrInputError;
            }

            // Every matching event unless --limit says otherwise (no silent cap); with it, one more to
            // say whether the bundle is a part.
            var limited = filters.LimitGiven(parse);
            var line = ProgressLine.For(parse, context);
            var bundle = await AuditBundle.ExportAsync(log, query with { Limit = limited ? query.Limit + 1 : int.MaxValue - 1 }, context.Time, ct, line.Of<long>(n => $"proved {n:N0} events...")).ConfigureAwait(false);
            line.Done();
            var events = bundle["events"]!.AsArray();
            var more = limited && events.Count > query.Limit;
            if (more)
            {
                bundle = await AuditBundle.ExportAsync(log, query, context.Time, ct).ConfigureAwait(false);
                events = bundle["events"]!.AsArray();
            }

            var path = Path.GetFullPath(parse.GetValue(output)!, context.WorkingDirectory);
            await File.WriteAllTextAsync(path, ProofDocuments.Text(bundle, indented: true), ct).ConfigureAwait(false);
            var publicKey = Path.GetRelativePath(context.WorkingDirectory, Path.Combine(store.KeyDirectory(parse, context), AuditKeys.PublicKeyFile));
            await context.Out.WriteLineAsync($"Exported {events.Count} events proven against tree head {bundle["treeHead"]!["size"]} to {parse.GetValue(output)}. " +
                $"Verify with: skjold audit verify --bundle {parse.GetValue(output)} --public-key {publicKey} (better: the auditor's own copy of that key)").ConfigureAwait(false);
            if (more)
            {
                await context.Error.WriteLineAsync($"note: more than {query.Limit} events match; the bundle holds the first {query.Limit}: raise --limit, or leave it out to export every match").ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        }).ConfigureAwait(false));
        return command;
    }
}
