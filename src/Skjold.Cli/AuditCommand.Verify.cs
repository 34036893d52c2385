using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Skjold.Audit;
using Skjold.Audit.Export;
using Skjold.Audit.Signing;

namespace Skjold.Cli;

/// <summary><c>skjold audit verify and audit checkpoint</c>.</summary>
internal static partial class AuditCommand
{
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
}
