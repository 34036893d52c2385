using System.CommandLine;
using System.Globalization;
using Skjold.Incidents;

namespace Skjold.Cli;

/// <summary>
/// <c>skjold incident open|list|show|plan|note|close|notify-draft</c>: incidents kept in the audit trail (every
/// change sealed), their GDPR and NIS2 clocks, the runbook plan for their type, and the draft notification.
/// </summary>
internal static partial class IncidentCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("incident", """
            Incident response: open an incident (pod-compromise, secret-exposed, unauthorized-access, node-compromise), see its GDPR Art. 33 and NIS2 Art. 23 deadlines, print its runbook plan with the exact API requests and RBAC, record notes and decisions, close it, and draft the notification to Datatilsynet. Every change is sealed in the audit trail.

            Examples:
              skjold incident open pod-compromise payments/ledger-7d9f8-x2x9q --severity critical --personal-data unknown
              skjold incident list
              skjold incident plan INC-20261202-3fa9c1
              skjold incident note INC-20261202-3fa9c1 "isolated the pod; logs captured" --status contained
              skjold incident notify-draft INC-20261202-3fa9c1 --authority datatilsynet --lang nb -o melding.md
            """);
        command.Subcommands.Add(Open(context));
        command.Subcommands.Add(List(context));
        command.Subcommands.Add(Show(context));
        command.Subcommands.Add(IncidentPlanCommands.Plan(context));
        command.Subcommands.Add(IncidentApplyCommand.Apply(context));
        command.Subcommands.Add(Note(context));
        command.Subcommands.Add(Close(context));
        command.Subcommands.Add(IncidentPlanCommands.NotifyDraft(context));
        command.Subcommands.Add(IncidentEvidenceCommands.Timeline(context));
        command.Subcommands.Add(IncidentEvidenceCommands.Export(context));
        command.Subcommands.Add(IncidentEvidenceCommands.Verify(context));
        command.Subcommands.Add(IncidentDrillCommand.Create(context));
        return command;
    }

    internal static string Actor(CliContext context) => context.Environment("SKJOLD_ACTOR") ?? context.Environment("USER") ?? "unknown";

    private static Command Open(CliContext context)
    {
        var targetOptions = new IncidentTargetOptions();
        var severity = new Option<string>("--severity") { Description = "low, medium, high or critical", DefaultValueFactory = _ => "high" };
        severity.AcceptOnlyFromAmong("low", "medium", "high", "critical");
        var aware = new Option<string?>("--aware-at") { Description = "When the organisation became aware (RFC 3339; default now): the GDPR and NIS2 clocks start here" };
        var owner = new Option<string?>("--owner") { Description = "Who handles it (default: you)" };
        var personal = new Option<string>("--personal-data") { Description = "yes, no or unknown: whether personal data is involved (GDPR applies unless no)", DefaultValueFactory = _ => "unknown" };
        personal.AcceptOnlyFromAmong("yes", "no", "unknown");
        var reason = new Option<string?>("--reason") { Description = "The reasoning behind --personal-data (Art. 33(5) asks for it either way)" };
        var drill = new Option<bool>("--drill") { Description = "A rehearsal (skjold incident drill opens these), not a real incident", Hidden = true };
        var store = new AuditStoreOptions();
        var cmd = new Command("open", "Open an incident; prints its id. The time of awareness starts the clocks.") { severity, aware, owner, personal, reason, drill };
        targetOptions.AddTo(cmd);
        store.AddTo(cmd);
        cmd.SetAction(async (parse, ct) =>
        {
            if (await targetOptions.ParseAsync(parse, context).ConfigureAwait(false) is not (var kind, var targetOf))
            {
                return ExitCodes.UsageOrInputError;
            }

            List<IncidentTarget> targets = [targetOf];
            var now = context.Time.GetUtcNow();
            var awareAt = now;
            if (parse.GetValue(aware) is { } a && !DateTimeOffset.TryParse(a, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out awareAt))
            {
                await context.Error.WriteLineAsync($"error: --aware-at '{a}' is not a time (RFC 3339, such as 2026-12-02T09:30:00Z)").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            if (awareAt > now.AddMinutes(5))
            {
                await context.Error.WriteLineAsync("error: --aware-at is in the future").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            var pd = new PersonalDataAssessment(parse.GetValue(personal) switch { "yes" => true, "no" => false, _ => null }, parse.GetValue(reason));
            var id = IncidentJournal.NewId(now);
            var actor = Actor(context);
            return await WithJournalAsync(store, parse, context, ct, async journal =>
            {
                var fields = IncidentEvents.Opened(id, kind, targets, parse.GetValue(severity)!, awareAt, parse.GetValue(owner) ?? actor, actor, pd);
                if (parse.GetValue(drill))
                {
                    fields[IncidentEvents.Prefix + "drill"] = "yes";
                }

                var leaf = await journal.RecordAsync(IncidentEvents.Open, $"incident {id} opened{(parse.GetValue(drill) ? " (drill)" : "")}", fields, ct).ConfigureAwait(false);
                context.Out.WriteLine(id);
                await context.Error.WriteLineAsync($"Opened {id} ({IncidentTypes.Name(kind)} {string.Join(", ", targets)}), sealed at leaf {leaf}; next: skjold incident plan {id}").ConfigureAwait(false);
            }).ConfigureAwait(false);
        });
        return cmd;
    }

    private static Command List(CliContext context)
    {
        var all = new Option<bool>("--all") { Description = "Closed incidents too" };
        var config = new Option<string?>("--config", "-c") { Description = "skjold.yaml with the incidents: section (NIS2 entity)" };
        var store = new AuditStoreOptions();
        var cmd = new Command("list", "Incidents with their deadlines: time left, or overdue.") { all, config };
        store.AddTo(cmd);
        cmd.SetAction(async (parse, ct) =>
        {
            if (!ConfigLoader.TryLoadIncidents(parse.GetValue(config), context.WorkingDirectory, context.Error, out var org))
            {
                return ExitCodes.UsageOrInputError;
            }

            return await WithReaderAsync(store, parse, context, ct, async journal =>
            {
                var incidents = (await journal.AllAsync(ct).ConfigureAwait(false)).Where(i => parse.GetValue(all) || i.Status != IncidentStatus.Closed).ToList();
                IncidentText.WriteList(context.Out, incidents, org.Nis2, context.Time.GetUtcNow());
            }).ConfigureAwait(false);
        });
        return cmd;
    }

    private static Command Show(CliContext context)
    {
        var id = new Argument<string>("ID");
        var config = new Option<string?>("--config", "-c") { Description = "skjold.yaml with the incidents: section (NIS2 entity)" };
        var store = new AuditStoreOptions();
        var cmd = new Command("show", "An incident: its facts, its deadlines, and its timeline (each entry with the trail leaf it is sealed at).") { id, config };
        store.AddTo(cmd);
        cmd.SetAction(async (parse, ct) =>
        {
            if (!ConfigLoader.TryLoadIncidents(parse.GetValue(config), context.WorkingDirectory, context.Error, out var org))
            {
                return ExitCodes.UsageOrInputError;
            }

            return await WithIncidentAsync(store, parse, context, parse.GetValue(id)!, ct, i => IncidentText.WriteShow(context.Out, i, org.Nis2, context.Time.GetUtcNow())).ConfigureAwait(false);
        });
        return cmd;
    }

    private static Command Note(CliContext context)
    {
        var id = new Argument<string>("ID");
        var text = new Argument<string?>("TEXT") { Description = "What was done, found or decided", Arity = ArgumentArity.ZeroOrOne };
        var status = new Option<string?>("--status") { Description = "open, contained or closed... (use close to close)" };
        status.AcceptOnlyFromAmong("open", "contained");
        var owner = new Option<string?>("--owner") { Description = "Hand the incident to someone else" };
        var severity = new Option<string?>("--severity") { Description = "low, medium, high or critical" };
        severity.AcceptOnlyFromAmong("low", "medium", "high", "critical");
        var personal = new Option<string?>("--personal-data") { Description = "yes, no or unknown, with --reason" };
        personal.AcceptOnlyFromAmong("yes", "no", "unknown");
        var reason = new Option<string?>("--reason") { Description = "The reasoning behind --personal-data" };
        var store = new AuditStoreOptions();
        var cmd = new Command("note", "Record a note, and optionally a change (status, owner, severity, the personal-data assessment); sealed in the trail.") { id, text, status, owner, severity, personal, reason };
        store.AddTo(cmd);
        cmd.SetAction(async (parse, ct) =>
        {
            var changes = new Dictionary<string, string>(StringComparer.Ordinal);
            void Put(string key, string? value)
            {
                if (value is not null)
                {
                    changes[key] = value;
                }
            }

            Put("status", parse.GetValue(status));
            Put("owner", parse.GetValue(owner));
            Put("severity", parse.GetValue(severity));
            Put("personal-data", parse.GetValue(personal));
            Put("personal-data-reasoning", parse.GetValue(reason));
            if (parse.GetValue(personal) is "no" && parse.GetValue(reason) is null)
            {
                await context.Error.WriteLineAsync("error: --personal-data no needs --reason: GDPR Art. 33(5) requires the reasoning to be documented").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            var note = parse.GetValue(text);
            if (note is null && changes.Count == 0)
            {
                await context.Error.WriteLineAsync("error: give a note TEXT, or a change (--status, --owner, --severity, --personal-data)").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            return await WithOpenIncidentAsync(store, parse, context, parse.GetValue(id)!, ct, async (journal, incident) =>
            {
                var actor = Actor(context);
                if (note is not null)
                {
                    await journal.RecordAsync(IncidentEvents.Note, $"incident {incident.Id}: note", IncidentEvents.Changed(incident.Id, actor, new Dictionary<string, string> { ["note"] = note }), ct).ConfigureAwait(false);
                }

                if (changes.Count > 0)
                {
                    await journal.RecordAsync(IncidentEvents.Update, $"incident {incident.Id}: updated", IncidentEvents.Changed(incident.Id, actor, changes), ct).ConfigureAwait(false);
                }

                await context.Error.WriteLineAsync($"Recorded on {incident.Id}.").ConfigureAwait(false);
            }).ConfigureAwait(false);
        });
        return cmd;
    }

    private static Command Close(CliContext context)
    {
        var id = new Argument<string>("ID");
        var resolution = new Option<string>("--resolution") { Description = "How it ended: cause, what was done, what remains", Required = true };
        var store = new AuditStoreOptions();
        var cmd = new Command("close", "Close an incident with its resolution (sealed in the trail; its deadlines stay on record).") { id, resolution };
        store.AddTo(cmd);
        cmd.SetAction(async (parse, ct) => await WithOpenIncidentAsync(store, parse, context, parse.GetValue(id)!, ct, async (journal, incident) =>
        {
            await journal.RecordAsync(IncidentEvents.Close, $"incident {incident.Id} closed",
                IncidentEvents.Changed(incident.Id, Actor(context), new Dictionary<string, string> { ["resolution"] = parse.GetValue(resolution)! }), ct).ConfigureAwait(false);
            await context.Error.WriteLineAsync($"Closed {incident.Id}.").ConfigureAwait(false);
        }).ConfigureAwait(false));
        return cmd;
    }

}
