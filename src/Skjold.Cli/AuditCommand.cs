using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Skjold.Audit;
using Skjold.Audit.Events;
using Skjold.Audit.Export;
using Skjold.Audit.Ingest;
using Skjold.Audit.Merkle;
using Skjold.Audit.Signing;
using Skjold.Audit.Query;
using Skjold.Audit.Storage;
using Skjold.Reports;

namespace Skjold.Cli;

/// <summary><c>skjold audit</c>: the tamper-evident audit trail.</summary>
internal static partial class AuditCommand
{
    public static Command Create(CliContext context)
    {
        var audit = new Command("audit", "Tamper-evident audit trail of API server audit events: init, ingest, serve, verify, checkpoint, query, export, purge, erase, hold, rotate-key.");
        audit.Subcommands.Add(Init(context));
        audit.Subcommands.Add(Ingest(context));
        audit.Subcommands.Add(Verify(context));
        audit.Subcommands.Add(Query(context));
        audit.Subcommands.Add(Export(context));
        audit.Subcommands.Add(Proof(context));
        audit.Subcommands.Add(Consistency(context));
        audit.Subcommands.Add(Checkpoint(context));
        audit.Subcommands.Add(Purge(context));
        audit.Subcommands.Add(Erase(context));
        audit.Subcommands.Add(RotateKey(context));
        audit.Subcommands.Add(Hold(context));
        audit.Subcommands.Add(AuditServeCommand.Create(context));
        return audit;
    }

    private static Command Init(CliContext context)
    {
        var store = new AuditStoreOptions();
        var redact = new Option<string[]>("--redact")
        {
            Description = "Also redact these top-level fields of these resources before sealing, RESOURCE=FIELD[,FIELD] (repeatable; e.g. configmaps=data). Secret values are always redacted.",
            AllowMultipleArgumentsPerToken = true,
        };
        var format = Summary.FormatOption();
        var command = new Command("init", "Create the signing and redaction keys and the log's storage.") { redact, format };
        store.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var keyDir = store.KeyDirectory(parse, context);
            List<RedactionRule> rules;
            try
            {
                rules = [.. (parse.GetValue(redact) ?? []).Select(RedactionRules.Parse)];
            }
            catch (FormatException ex)
            {
                await context.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            try
            {
                var json = Summary.IsJson(parse, format);
                var created = !AuditKeys.Exist(keyDir);
                string keyId;
                if (!created)
                {
                    using var existing = AuditKeys.Load(keyDir);
                    keyId = existing.KeyId;
                    await context.Error.WriteLineAsync($"{keyDir} already holds audit keys; keeping them").ConfigureAwait(false);
                }
                else
                {
                    using var keys = AuditKeys.Create(keyDir);
                    keyId = keys.KeyId;
                    if (!json)
                    {
                        await context.Out.WriteLineAsync($"Created audit keys in {keyDir} (key id {keys.KeyId}).").ConfigureAwait(false);
                        await context.Out.WriteLineAsync($"Give auditors {Path.Combine(keyDir, AuditKeys.PublicKeyFile)}; keep {AuditKeys.SigningKeyFile} and {AuditKeys.RedactionKeyFile} secret.").ConfigureAwait(false);
                    }
                }

                if (rules.Count > 0)
                {
                    RedactionRules.Save(keyDir, rules);
                    if (!json)
                    {
                        await context.Out.WriteLineAsync($"Redacting before sealing, besides secret values: {string.Join("; ", rules.Select(r => string.Join(',', r.Resources) + " " + string.Join(',', r.Fields)))} ({RedactionRules.FileName}; applies to events sealed from now on).").ConfigureAwait(false);
                    }
                }

                await using var s = store.Store(parse, context);
                await s.InitializeAsync(ct).ConfigureAwait(false);
                await Summary.WriteAsync(context, parse, format, $"Audit log ready: {s.Description}", () => new JsonObject
                {
                    ["keyDirectory"] = keyDir,
                    ["keysCreated"] = created,
                    ["keyId"] = keyId,
                    ["publicKey"] = Path.Combine(keyDir, AuditKeys.PublicKeyFile),
                    ["redact"] = new JsonArray([.. rules.Select(r => (JsonNode)(string.Join(',', r.Resources) + "=" + string.Join(',', r.Fields)))]),
                    ["store"] = s.Description,
                }).ConfigureAwait(false);
                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or System.Security.Cryptography.CryptographicException or System.Data.Common.DbException)
            {
                await context.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }
        });
        return command;
    }

    /// <summary>
    /// Why a file is not an API server audit log (its first 100 non-empty lines, or first MiB, hold
    /// no audit event), or null. A file that is one is ingested line by line, bad lines recorded.
    /// </summary>
    internal static string? NotAnAuditLog(string path)
    {
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
        var lines = 0;
        long read = 0;
        string? line;
        string? firstError = null;
        while (lines < 100 && read < 1 << 20 && (line = reader.ReadLine()) is not null)
        {
            read += line.Length + 1;
            if (line.Length > 1 << 20)
            {
                line = line[..(1 << 20)];
            }

            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            lines++;
            if (Skjold.Audit.Events.AuditEventReader.TryReadLine(line, out _, out var error))
            {
                return null;
            }

            firstError ??= error;
        }

        return lines == 0 ? null : $"holds no Kubernetes audit event in its first {lines} lines (line 1: {firstError})";
    }

    private static Command Ingest(CliContext context)
    {
        var store = new AuditStoreOptions();
        var file = new Argument<string>("FILE") { Description = "Audit log file written by the API server's log backend (JSON lines)" };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep reading as the file grows, across rotation; the read offset is saved with each batch" };
        // -f is --follow here, as in kubectl logs -f and tail -f; the format is --format only.
        var format = new Option<string>("--format") { Description = "table or json (the summary)", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var command = new Command("ingest", "Seal the events of a log-backend audit file.") { file, follow, format };
        store.AddTo(command);
        command.SetAction(async (parse, ct) => await WithLogAsync(store, parse, context, ct, async (log, _) =>
        {
            var path = Path.GetFullPath(parse.GetValue(file)!, context.WorkingDirectory);
            if (!parse.GetValue(follow) && !File.Exists(path))
            {
                await context.Error.WriteLineAsync($"error: {parse.GetValue(file)}: no such file").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            if (File.Exists(path) && NotAnAuditLog(path) is { } why)
            {
                await context.Error.WriteLineAsync($"error: {parse.GetValue(file)} {why}; nothing was sealed (the log backend writes one JSON audit.k8s.io Event per line)").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            var line = ProgressLine.For(parse, context);
            var stats = await new LogFileIngester(log, path, m => context.Error.WriteLine(m), progress: line.Of<long>(n => $"sealed {n:N0} events..."), time: context.Time).RunAsync(parse.GetValue(follow), ct).ConfigureAwait(false);
            line.Done();
            await log.SignNowAsync(CancellationToken.None).ConfigureAwait(false);
            await context.Out.WriteLineAsync(parse.GetValue(format) == "json"
                ? new JsonObject
                {
                    ["file"] = parse.GetValue(file),
                    ["lines"] = stats.Lines,
                    ["sealed"] = stats.Appended,
                    ["rejected"] = stats.Rejected,
                    ["rotations"] = stats.Rotations,
                }.ToJsonString(Summary.IndentedOptions)
                : $"Read {stats.Lines} lines: sealed {stats.Appended} events, rejected {stats.Rejected} (recorded as ingest-rejected events), followed {stats.Rotations} rotations.").ConfigureAwait(false);
            return stats.Rejected > 0 ? ExitCodes.UsageOrInputError : ExitCodes.Ok;
        }).ConfigureAwait(false));
        return command;
    }

    private static Command Verify(CliContext context)
    {
        var store = new AuditStoreOptions();
        var bundle = new Option<string?>("--bundle") { Description = "Verify an exported bundle offline instead of the store" };
        var publicKey = new Option<string[]>("--public-key") { Description = "The auditor's copy of the public key (PEM); repeat it for keys of earlier rotations. Without it the key directory's audit-signing-key.pub.pem is used, which proves nothing against whoever can write that directory", AllowMultipleArgumentsPerToken = false };
        var keyId = new Option<string?>("--key-id") { Description = "Pin the key: the public key used must have this id (16 hex digits, printed by 'audit init'); also SKJOLD_AUDIT_KEY_ID" };
        var checkpoint = new Option<string?>("--since-checkpoint") { Description = "A checkpoint file from 'skjold audit checkpoint': prove that the log extends it (no rollback, no rewrite)" };
        var format = new Option<string>("--format", "-f") { Description = "table or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var command = new Command("verify", """
            Recompute the log and check every signed tree head, column, index entry, seal, purge and erasure; or verify an exported bundle with the public key alone.
            Examples:
              skjold audit verify --public-key auditor/audit-signing-key.pub.pem
              skjold audit verify --public-key auditor/key.pem --since-checkpoint checkpoint-2026-11.json
            Exit codes: 0 verified; 1 tampering or invalid signatures found; 2 usage or input error.
            """)
        {
            bundle, publicKey, keyId, checkpoint, format,
        };
        store.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(bundle) is null)
            {
                store.RequireExisting(parse, context);
            }

            var givenKeys = parse.GetValue(publicKey) ?? [];
            var given = givenKeys.Length > 0 ? givenKeys[0] : null;
            var keyPaths = givenKeys.Length > 0
                ? givenKeys.Select(k => Path.GetFullPath(k, context.WorkingDirectory)).ToList()
                : [Path.Combine(store.KeyDirectory(parse, context), AuditKeys.PublicKeyFile)];
            var keyPath = keyPaths[0];
            foreach (var path in keyPaths)
            {
                if (!File.Exists(path))
                {
                    await context.Error.WriteLineAsync($"error: public key {path} not found (give --public-key)").ConfigureAwait(false);
                    return ExitCodes.UsageOrInputError;
                }
            }

            var verifiers = new List<TreeHeadVerifier>();
            foreach (var path in keyPaths)
            {
                try
                {
                    verifiers.Add(new TreeHeadVerifier(await File.ReadAllTextAsync(path, ct).ConfigureAwait(false)));
                }
                catch (Exception ex) when (ex is ArgumentException or System.Security.Cryptography.CryptographicException)
                {
                    await context.Error.WriteLineAsync($"error: {path} is not a PEM public key: {ex.Message}").ConfigureAwait(false);
                    return ExitCodes.UsageOrInputError;
                }
            }

            using var verifier = verifiers[0];
            var pinned = parse.GetValue(keyId) ?? Environment.GetEnvironmentVariable("SKJOLD_AUDIT_KEY_ID");
            if (pinned is { Length: > 0 } && !string.Equals(pinned, verifier.KeyId, StringComparison.OrdinalIgnoreCase))
            {
                await context.Out.WriteLineAsync($"FAIL key: the public key {keyPath} has id {verifier.KeyId}, not the pinned {pinned}: the key was replaced").ConfigureAwait(false);
                return ExitCodes.Findings;
            }

            if (given is null && pinned is not { Length: > 0 })
            {
                await context.Error.WriteLineAsync($"warning: verifying with the key directory's own public key ({keyPath}, id {verifier.KeyId}); this proves nothing against whoever can write that directory. Give --public-key with the auditor's copy, or --key-id to pin it.").ConfigureAwait(false);
            }

            SignedTreeHead? kept = null;
            if (parse.GetValue(checkpoint) is { } cpPath)
            {
                try
                {
                    using var doc = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.GetFullPath(cpPath, context.WorkingDirectory), ct).ConfigureAwait(false));
                    kept = ProofDocuments.ReadTreeHead(doc.RootElement.TryGetProperty("treeHead", out var th) ? th : doc.RootElement);
                }
                catch (Exception ex) when (ex is IOException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
                {
                    await context.Error.WriteLineAsync($"error: {cpPath} is not a readable checkpoint: {ex.Message}").ConfigureAwait(false);
                    return ExitCodes.UsageOrInputError;
                }
            }

            VerificationReport report;
            var started = System.Diagnostics.Stopwatch.StartNew();
            if (parse.GetValue(bundle) is { } bundlePath)
            {
                var full = Path.GetFullPath(bundlePath, context.WorkingDirectory);
                if (!File.Exists(full))
                {
                    await context.Error.WriteLineAsync($"error: bundle {bundlePath} not found").ConfigureAwait(false);
                    return ExitCodes.UsageOrInputError;
                }

                try
                {
                    using var doc = JsonDocument.Parse(await File.ReadAllBytesAsync(full, ct).ConfigureAwait(false));
                    report = AuditBundle.Verify(doc.RootElement, verifier);
                }
                catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
                {
                    await context.Error.WriteLineAsync($"error: {bundlePath} is not a readable audit bundle: {ex.Message}").ConfigureAwait(false);
                    return ExitCodes.UsageOrInputError;
                }
            }
            else
            {
                await using var s = store.ExistingStore(parse, context);
                try
                {
                    var line = ProgressLine.For(parse, context);
                    var progress = line.Of<long>(n => $"verified {n:N0} events...");
                    report = await AuditVerifier.VerifyStoreAsync(s, verifier, progress, ct, new VerifyOptions { Time = context.Time, Checkpoint = kept, AlsoTrusted = verifiers.Skip(1).ToList() }).ConfigureAwait(false);
                    line.Done();
                }
                catch (Exception ex) when (ex is InvalidOperationException or System.Data.Common.DbException)
                {
                    await context.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                    return ExitCodes.UsageOrInputError;
                }
            }

            if (parse.GetValue(format) == "json")
            {
                await context.Out.WriteLineAsync(JsonSerializer.Serialize(report, CliJsonContext.Relaxed.GetTypeInfo(typeof(VerificationReport)))).ConfigureAwait(false);
            }
            else
            {
                foreach (var p in report.Problems)
                {
                    await context.Out.WriteLineAsync($"FAIL {p.Kind}{(p.LeafIndex is { } i ? $" at leaf {i}" : string.Empty)}: {p.Message}").ConfigureAwait(false);
                }

                foreach (var w in report.Warnings)
                {
                    await context.Error.WriteLineAsync($"warning: {w}").ConfigureAwait(false);
                }

                await context.Out.WriteLineAsync(report.Ok
                    ? $"OK: {report.LeavesChecked:N0} events ({report.Purged:N0} purged, {report.Erased:N0} erased under sealed records) and {report.TreeHeadsVerified} signed tree heads verified{(kept is null ? string.Empty : $", extending the checkpoint of size {kept.Size}")} in {started.Elapsed.TotalSeconds:0.0} s; {report.UnsignedTail:N0} events after the last tree head."
                    : $"TAMPERING OR CORRUPTION: {Math.Max(report.ProblemCount, report.Problems.Count)} problems in {report.LeavesChecked:N0} events{(report.ProblemCount > report.Problems.Count ? $" (the first {report.Problems.Count} listed)" : string.Empty)}.").ConfigureAwait(false);
            }

            return report.Ok ? ExitCodes.Ok : ExitCodes.Findings;
        });
        return command;
    }

    private static Command Checkpoint(CliContext context)
    {
        var store = new AuditStoreOptions();
        var output = new Option<string?>("--output", "-o") { Description = "Write the checkpoint to this file (default: stdout)" };
        var command = new Command("checkpoint", """
            Seal what is unsigned and print the latest signed tree head: keep it somewhere the receiver cannot write, and later prove the log extends it.
            Examples:
              skjold audit checkpoint -o /secure/checkpoint-$(date +%F).json
              skjold audit verify --public-key key.pem --since-checkpoint /secure/checkpoint-2026-12-01.json
            """) { output };
        store.AddTo(command);
        command.SetAction(async (parse, ct) => await WithLogAsync(store, parse, context, ct, async (log, _) =>
        {
            var sth = await log.SignNowAsync(ct).ConfigureAwait(false);
            if (sth is null)
            {
                await context.Error.WriteLineAsync("error: the log is empty; there is nothing to checkpoint").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            var text = ProofDocuments.Text(new JsonObject { ["format"] = "skjold-audit-checkpoint-v1", ["treeHead"] = ProofDocuments.TreeHead(sth) }, indented: true);
            if (parse.GetValue(output) is { } path)
            {
                await File.WriteAllTextAsync(Path.GetFullPath(path, context.WorkingDirectory), text + "\n", ct).ConfigureAwait(false);
                await context.Out.WriteLineAsync($"Checkpoint of {sth.Size:N0} events (key {sth.KeyId}) written to {path}.").ConfigureAwait(false);
            }
            else
            {
                await context.Out.WriteLineAsync(text).ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        }).ConfigureAwait(false));
        return command;
    }

    private static Command Query(CliContext context)
    {
        var store = new AuditStoreOptions();
        var filters = new QueryOptions { Clock = context.Time };
        var format = new Option<string>("--format", "-f") { Description = "table, json or csv", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json", "csv");
        var publicKey = new Option<string?>("--public-key") { Description = "Public key (PEM) that confirms the answer (default: the key directory's audit-signing-key.pub.pem)" };
        var command = new Command("query", """
            Search the audit trail by time, user, group, verb, resource, namespace, name, subresource, source IP and response code, or ask a named question. Every answer is confirmed against the signed tree: a row that was edited, or an index that would leave events out, makes the query fail (exit 1) naming the leaf.
            Examples:
              skjold audit query --who-read-secret payments/db-password --since 7d
              skjold audit query --user alice --verb delete --format csv
            """) { format, publicKey };
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
                // One more than the limit, to say whether more events match than are shown.
                answer = await new ConfirmedQuery(s, verifier).RunAsync(query with { Limit = query.Limit + 1 }, payloads: false, ct).ConfigureAwait(false);
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

    private static Command Consistency(CliContext context)
    {
        var store = new AuditStoreOptions();
        var size = new Argument<long>("SIZE") { Description = "Size of the earlier tree (for example from a tree head an auditor kept)" };
        var command = new Command("consistency", "Print the proof that the latest signed tree extends the tree of SIZE leaves unchanged (JSON).") { size };
        store.AddTo(command);
        command.SetAction(async (parse, ct) => await WithLogAsync(store, parse, context, ct, async (log, s) =>
        {
            var sth = await log.SignNowAsync(ct).ConfigureAwait(false);
            var old = parse.GetValue(size);
            if (sth is null || old < 1 || old > sth.Size)
            {
                await context.Error.WriteLineAsync($"error: the log has {sth?.Size ?? 0} leaves; SIZE must be from 1 to that").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            var doc = await ProofDocuments.ConsistencyAsync(s, old, sth, ct).ConfigureAwait(false);
            await context.Out.WriteLineAsync(ProofDocuments.Text(doc, indented: true)).ConfigureAwait(false);
            return doc["verified"]!.GetValue<bool>() ? ExitCodes.Ok : ExitCodes.Findings;
        }).ConfigureAwait(false));
        return command;
    }

    private static Command Proof(CliContext context)
    {
        var store = new AuditStoreOptions();
        var index = new Argument<long>("INDEX") { Description = "Leaf index of the event" };
        var command = new Command("proof", "Print the inclusion proof of one event against the latest signed tree head (JSON).") { index };
        store.AddTo(command);
        command.SetAction(async (parse, ct) => await WithLogAsync(store, parse, context, ct, async (log, s) =>
        {
            var sth = await log.SignNowAsync(ct).ConfigureAwait(false);
            var i = parse.GetValue(index);
            if (sth is null || i < 0 || i >= sth.Size)
            {
                await context.Error.WriteLineAsync($"error: leaf {i} is not in the log").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            if (await ProofDocuments.InclusionAsync(s, i, sth, ct).ConfigureAwait(false) is not { } doc)
            {
                await context.Error.WriteLineAsync($"error: leaf {i} is missing from the store; run skjold audit verify").ConfigureAwait(false);
                return ExitCodes.Findings;
            }

            await context.Out.WriteLineAsync(ProofDocuments.Text(doc, indented: true)).ConfigureAwait(false);
            return ExitCodes.Ok;
        }).ConfigureAwait(false));
        return command;
    }

    private static Command Purge(CliContext context)
    {
        var store = new AuditStoreOptions();
        var days = new Option<int>("--retention-days") { Description = "Default retention in days (PCI DSS 10.5.1 needs at least 365)", DefaultValueFactory = _ => Retention.DefaultDays };
        var rules = new Option<string[]>("--rule") { Description = "Per-resource retention, RESOURCE=DAYS (repeatable), e.g. events=400", AllowMultipleArgumentsPerToken = true };
        var minimum = new Option<int>("--minimum-days") { Description = "The framework minimum no rule may go below without --force", DefaultValueFactory = _ => Retention.DefaultMinimumDays };
        var force = new Option<bool>("--force") { Description = "Allow retention shorter than --minimum-days" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Say what would be purged; change nothing" };
        var format = new Option<string>("--format", "-f") { Description = "table or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var command = new Command("purge", """
            Remove payloads of events past retention (legal holds respected); leaf hashes and tree heads stay, so proofs remain valid, and a sealed purge record names every purged leaf.
            Examples:
              skjold audit purge --dry-run
              skjold audit purge --retention-days 400 --rule events=365
            """) { days, rules, minimum, force, dryRun, format };
        store.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var list = new List<RetentionRule> { new(null, parse.GetValue(days)) };
            foreach (var r in parse.GetValue(rules) ?? [])
            {
                var parts = r.Split('=');
                if (parts.Length != 2 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var d) || d < 1)
                {
                    await context.Error.WriteLineAsync($"error: --rule '{r}' must be RESOURCE=DAYS").ConfigureAwait(false);
                    return ExitCodes.UsageOrInputError;
                }

                list.Add(new RetentionRule(parts[0], d));
            }

            if (Retention.TooShort(list, parse.GetValue(minimum)) is { Count: > 0 } tooShort && !parse.GetValue(force))
            {
                await context.Error.WriteLineAsync($"error: retention {string.Join(", ", tooShort)} days is shorter than the framework minimum of {parse.GetValue(minimum)} days (PCI DSS 10.5.1 keeps audit logs twelve months); give --force if a shorter period is really required").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            return await WithLogAsync(store, parse, context, ct, async (log, _) =>
            {
                var dry = parse.GetValue(dryRun);
                var results = await new Retention(log, list, context.Time).PurgeAsync(dry, ct).ConfigureAwait(false);
                var total = results.Sum(r => r.Outcome.Count);
                if (parse.GetValue(format) == "json")
                {
                    if (!dry)
                    {
                        await log.SignNowAsync(ct).ConfigureAwait(false);
                    }

                    await context.Out.WriteLineAsync(new JsonObject
                    {
                        ["dryRun"] = dry,
                        ["purged"] = total,
                        ["rules"] = new JsonArray([.. results.Select(r => (JsonNode)new JsonObject
                        {
                            ["rule"] = r.Rule,
                            ["before"] = r.Before.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                            ["events"] = r.Outcome.Count,
                        })]),
                    }.ToJsonString(Summary.IndentedOptions)).ConfigureAwait(false);
                    return ExitCodes.Ok;
                }

                foreach (var r in results)
                {
                    await context.Out.WriteLineAsync($"  {r.Rule,-24} before {r.Before:yyyy-MM-dd}: {r.Outcome.Count:N0} events").ConfigureAwait(false);
                }

                if (dry)
                {
                    await context.Out.WriteLineAsync($"Dry run: {total:N0} events would be purged; nothing was changed.").ConfigureAwait(false);
                    return ExitCodes.Ok;
                }

                await log.SignNowAsync(ct).ConfigureAwait(false);
                await context.Out.WriteLineAsync($"Purged the payloads of {total:N0} events; the purge is recorded in the log.").ConfigureAwait(false);
                return ExitCodes.Ok;
            }).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Erase(CliContext context)
    {
        var store = new AuditStoreOptions();
        var user = new Option<string>("--user") { Description = "The person's user name as the API server recorded it", Required = true };
        var reason = new Option<string>("--reason") { Description = "The request this fulfils (case or ticket reference)", Required = true };
        var dryRun = new Option<bool>("--dry-run") { Description = "Say how many events would be erased; change nothing" };
        var format = new Option<string>("--format", "-f") { Description = "table or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var command = new Command("erase", """
            GDPR Article 17: replace a person's identifying fields (user name, UID, extra, source IPs, user agent) in the stored events with keyed hashes. Leaf hashes stay, proofs still verify, and a sealed erasure record covers the change.
            Example:
              skjold audit erase --user jane@example.com --reason DSR-2026-118 --dry-run
            """) { user, reason, dryRun, format };
        store.AddTo(command);
        command.SetAction(async (parse, ct) => await WithLogAsync(store, parse, context, ct, async (log, _) =>
        {
            var dry = parse.GetValue(dryRun);
            var outcome = await new Erasure(log).EraseAsync(parse.GetValue(user)!, parse.GetValue(reason)!, dry, ct).ConfigureAwait(false);
            if (parse.GetValue(format) == "json")
            {
                if (!dry && outcome.Count > 0)
                {
                    await log.SignNowAsync(ct).ConfigureAwait(false);
                }

                // The user name is not echoed: the point of the command is that it stops being readable.
                await context.Out.WriteLineAsync(new JsonObject
                {
                    ["dryRun"] = dry,
                    ["erased"] = outcome.Count,
                    ["reason"] = parse.GetValue(reason),
                }.ToJsonString(Summary.IndentedOptions)).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            if (dry)
            {
                await context.Out.WriteLineAsync($"Dry run: {outcome.Count:N0} events of that user would be erased; nothing was changed.").ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            await log.SignNowAsync(ct).ConfigureAwait(false);
            await context.Out.WriteLineAsync(outcome.Count == 0
                ? "No events of that user; nothing was erased."
                : $"Erased the identifying fields of {outcome.Count:N0} events; the erasure is recorded in the log.").ConfigureAwait(false);
            return ExitCodes.Ok;
        }).ConfigureAwait(false));
        return command;
    }

    private static Command RotateKey(CliContext context)
    {
        var store = new AuditStoreOptions();
        var rotateFormat = Summary.FormatOption();
        var command = new Command("rotate-key", """
            Make a new signing key. The rotation is sealed in the log under the old key, so a verifier who trusts the old key accepts heads signed by the new one; old heads stay verifiable. Hand auditors the new public key and restart receivers.
            """) { rotateFormat };
        store.AddTo(command);
        command.SetAction(async (parse, ct) => await WithLogAsync(store, parse, context, ct, async (log, _) =>
        {
            var keyDir = store.KeyDirectory(parse, context);
            var current = log.Keys;
            var next = AuditKeys.Rotate(keyDir, current);
            await log.RotateKeyAsync(next, ct).ConfigureAwait(false);
            await log.SignNowAsync(ct).ConfigureAwait(false);
            await Summary.WriteAsync(context, parse, rotateFormat, $"Rotated the signing key {current.KeyId} -> {next.KeyId}; the old key is kept as audit-signing-key.{current.KeyId}.pem. Give auditors {Path.Combine(keyDir, AuditKeys.PublicKeyFile)}.", () => new JsonObject
            {
                ["previousKeyId"] = current.KeyId,
                ["keyId"] = next.KeyId,
                ["publicKey"] = Path.Combine(keyDir, AuditKeys.PublicKeyFile),
            }).ConfigureAwait(false);
            return ExitCodes.Ok;
        }).ConfigureAwait(false));
        return command;
    }

    private static Command Hold(CliContext context)
    {
        var hold = new Command("hold", "Legal holds: keep matching events out of retention purges.");
        var addStore = new AuditStoreOptions();
        var reason = new Option<string>("--reason") { Description = "Why (case or request reference)", Required = true };
        var ns = new Option<string?>("--namespace", "-n") { Description = "Hold events in this namespace" };
        var user = new Option<string?>("--user") { Description = "Hold events of this user" };
        var resource = new Option<string?>("--resource") { Description = "Hold events on this resource (plural, e.g. secrets)" };
        var until = new Option<string?>("--until") { Description = "Release automatically after this date (YYYY-MM-DD)" };
        var addFormat = Summary.FormatOption();
        var add = new Command("add", "Place a legal hold.") { reason, ns, user, resource, until, addFormat };
        addStore.AddTo(add);
        add.SetAction(async (parse, ct) =>
        {
            DateTimeOffset? untilDate = null;
            if (parse.GetValue(until) is { } u)
            {
                if (!DateTimeOffset.TryParseExact(u, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
                {
                    await context.Error.WriteLineAsync("error: --until must be YYYY-MM-DD").ConfigureAwait(false);
                    return ExitCodes.UsageOrInputError;
                }

                untilDate = parsed;
            }

            await using var s = addStore.ExistingStore(parse, context);
            await s.InitializeAsync(ct).ConfigureAwait(false);
            var h = await s.AddHoldAsync(new LegalHold(0, parse.GetValue(reason)!, parse.GetValue(ns), parse.GetValue(user), parse.GetValue(resource), context.Time.GetUtcNow(), untilDate), ct).ConfigureAwait(false);
            await Summary.WriteAsync(context, parse, addFormat, $"Legal hold {h.Id} placed.", () => HoldJson(h)).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        var listStore = new AuditStoreOptions();
        var listFormat = new Option<string>("--format", "-f") { Description = "table or json", DefaultValueFactory = _ => "table" };
        listFormat.AcceptOnlyFromAmong("table", "json");
        var list = new Command("list", "List legal holds.") { listFormat };
        listStore.AddTo(list);
        list.SetAction(async (parse, ct) =>
        {
            await using var s = listStore.ExistingStore(parse, context);
            var holds = await s.HoldsAsync(ct).ConfigureAwait(false);
            if (parse.GetValue(listFormat) == "json")
            {
                var array = new JsonArray([.. holds.Select(h => (JsonNode)HoldJson(h))]);
                await context.Out.WriteLineAsync(Summary.Json(array)).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            foreach (var h in holds)
            {
                await context.Out.WriteLineAsync($"{h.Id}\t{h.Created:yyyy-MM-dd}\tnamespace={h.Namespace ?? "*"} user={h.Username ?? "*"} resource={h.Resource ?? "*"} until={h.Until?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "-"}\t{h.Reason}").ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        });
        var releaseStore = new AuditStoreOptions();
        var id = new Argument<long>("ID");
        var releaseFormat = Summary.FormatOption();
        var release = new Command("release", "Release a legal hold.") { id, releaseFormat };
        releaseStore.AddTo(release);
        release.SetAction(async (parse, ct) =>
        {
            await using var s = releaseStore.ExistingStore(parse, context);
            if (!await s.ReleaseHoldAsync(parse.GetValue(id), ct).ConfigureAwait(false))
            {
                await context.Error.WriteLineAsync($"error: no legal hold {parse.GetValue(id)} (skjold audit hold list shows them)").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            await Summary.WriteAsync(context, parse, releaseFormat, $"Released legal hold {parse.GetValue(id)}.", () => new JsonObject { ["released"] = parse.GetValue(id) }).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        hold.Subcommands.Add(add);
        hold.Subcommands.Add(list);
        hold.Subcommands.Add(release);
        return hold;
    }

    private static JsonObject HoldJson(LegalHold h) => new()
    {
        ["id"] = h.Id,
        ["created"] = h.Created.ToString("O", CultureInfo.InvariantCulture),
        ["reason"] = h.Reason,
        ["namespace"] = h.Namespace,
        ["user"] = h.Username,
        ["resource"] = h.Resource,
        ["until"] = h.Until?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
    };

    private static async Task<int> WithLogAsync(AuditStoreOptions store, ParseResult parse, CliContext context, CancellationToken ct, Func<AuditLog, IAuditStore, Task<int>> action)
    {
        AuditLogSession session;
        try
        {
            session = await store.OpenLogAsync(parse, context, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AuditStoreException or IOException or System.Data.Common.DbException)
        {
            await context.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.UsageOrInputError;
        }

        await using (session.ConfigureAwait(false))
        {
            try
            {
                return await action(session.Log, session.Store).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or System.Data.Common.DbException)
            {
                await context.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }
        }
    }

    /// <summary>Reports progress on the calling thread, so that output stays in order.</summary>
}
