using System.CommandLine;
using System.Text.Json.Nodes;
using Skjold.Audit.Events;
using Skjold.Audit.Signing;

namespace Skjold.Cli;

/// <summary><c>skjold audit init</c>.</summary>
internal static partial class AuditCommand
{
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
}
