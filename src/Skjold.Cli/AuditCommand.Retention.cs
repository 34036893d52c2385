using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Skjold.Audit;

namespace Skjold.Cli;

/// <summary><c>skjold audit purge and audit erase</c>.</summary>
internal static partial class AuditCommand
{
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
}
