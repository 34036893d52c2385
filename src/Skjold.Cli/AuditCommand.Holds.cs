using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Skjold.Audit.Signing;
using Skjold.Audit.Storage;

namespace Skjold.Cli;

/// <summary><c>skjold audit rotate-key and audit hold</c>.</summary>
internal static partial class AuditCommand
{
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
}
