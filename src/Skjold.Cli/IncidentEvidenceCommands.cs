using System.CommandLine;
using System.Text.Json;
using Skjold.Audit.Signing;
using Skjold.Audit.Storage;
using Skjold.Incidents;
using Skjold.Kubernetes.Live;

namespace Skjold.Cli;

/// <summary><c>skjold incident timeline|export|verify</c>: what happened in order, and the signed bundle for the regulator or auditor.</summary>
internal static class IncidentEvidenceCommands
{
    public static Command Timeline(CliContext context)
    {
        var id = new Argument<string>("ID");
        var before = new Option<string>("--before") { Description = "How far before awareness to look (such as 24h or 7d)", DefaultValueFactory = _ => "24h" };
        var store = new AuditStoreOptions();
        var cmd = new Command("timeline", "The incident's timeline in time order: API requests about its targets, alerts that name them, and its own notes, actions and decisions, each with the trail leaf it is sealed at.") { id, before };
        store.AddTo(cmd);
        cmd.SetAction(async (parse, ct) =>
        {
            if (!Skjold.Engine.Text.Durations.TryParse(parse.GetValue(before)!, out var window))
            {
                await context.Error.WriteLineAsync($"error: --before '{parse.GetValue(before)}' is not a duration such as 24h or 7d").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            return await IncidentCommand.WithReaderAsync(store, parse, context, ct, async journal =>
            {
                if (await journal.FindAsync(parse.GetValue(id)!, ct).ConfigureAwait(false) is not { } incident)
                {
                    await context.Error.WriteLineAsync($"error: no incident {parse.GetValue(id)} in the trail").ConfigureAwait(false);
                    return;
                }

                await using var s = store.ExistingStore(parse, context);
                foreach (var item in await IncidentTimeline.BuildAsync(s, incident, window, ct).ConfigureAwait(false))
                {
                    context.Out.WriteLine($"{item.At:yyyy-MM-dd HH:mm:ss} {item.Source,-8} leaf {item.Leaf,-8} {item.Text}");
                }
            }).ConfigureAwait(false);
        });
        return cmd;
    }

    public static Command Export(CliContext context)
    {
        var id = new Argument<string>("ID");
        var before = new Option<string>("--before") { Description = "How far before awareness the timeline goes", DefaultValueFactory = _ => "24h" };
        var evidenceDir = new Option<string>("--evidence-dir") { Description = "Where apply wrote the evidence files (their hashes go into the bundle)", DefaultValueFactory = _ => "incident-evidence" };
        var config = new Option<string?>("--config", "-c") { Description = "skjold.yaml with the incidents: section (NIS2 entity)" };
        var output = new Option<string?>("--output", "-o") { Description = "Write the bundle to this file (default stdout)" };
        var store = new AuditStoreOptions();
        var cmd = new Command("export", "Write the incident's signed evidence bundle: the incident, its deadlines and timeline, evidence hashes, and every cited trail event with its inclusion proof, signed with the trail's key (skjold incident verify checks it offline).") { id, before, evidenceDir, config, output };
        store.AddTo(cmd);
        cmd.SetAction(async (parse, ct) =>
        {
            if (!ConfigLoader.TryLoadIncidents(parse.GetValue(config), context.WorkingDirectory, context.Error, out var org)
                || !Skjold.Engine.Text.Durations.TryParse(parse.GetValue(before)!, out var window))
            {
                return ExitCodes.UsageOrInputError;
            }

            try
            {
                store.RequireExisting(parse, context);
                await using var session = await store.OpenLogAsync(parse, context, ct).ConfigureAwait(false);
                var journal = new IncidentJournal(session.Store, session.Log);
                if (await journal.FindAsync(parse.GetValue(id)!, ct).ConfigureAwait(false) is not { } incident)
                {
                    await context.Error.WriteLineAsync($"error: no incident {parse.GetValue(id)} in the trail").ConfigureAwait(false);
                    return ExitCodes.UsageOrInputError;
                }

                var timeline = await IncidentTimeline.BuildAsync(session.Store, incident, window, ct).ConfigureAwait(false);
                var bundle = await IncidentBundle.ExportAsync(session.Log, incident, timeline, org.Nis2,
                    Path.GetFullPath(parse.GetValue(evidenceDir)!, context.WorkingDirectory), context.Time, ct).ConfigureAwait(false);
                var text = bundle.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
                if (parse.GetValue(output) is { } file)
                {
                    await File.WriteAllTextAsync(Path.GetFullPath(file, context.WorkingDirectory), text, ct).ConfigureAwait(false);
                    await context.Error.WriteLineAsync($"Wrote {file}: {incident.Id}, {timeline.Count} timeline entries, {bundle["evidence"]!.AsArray().Count} evidence files").ConfigureAwait(false);
                }
                else
                {
                    await context.Out.WriteAsync(text).ConfigureAwait(false);
                }

                return ExitCodes.Ok;
            }
            catch (AuditStoreException ex)
            {
                await context.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }
        });
        return cmd;
    }

    public static Command Verify(CliContext context)
    {
        var file = new Argument<string>("BUNDLE");
        var key = new Option<string>("--public-key") { Description = "The trail's public key (PEM), obtained from its owner, not from the bundle", Required = true };
        var evidenceDir = new Option<string?>("--evidence-dir") { Description = "Also check the evidence files against their hashes" };
        var cmd = new Command("verify", "Verify an incident bundle offline: its signature, every event's inclusion proof, that the incident is what its sealed events say, and (with --evidence-dir) the evidence files.\nExit codes: 0 intact, 1 altered, 2 not a bundle or an unreadable key.") { file, key, evidenceDir };
        cmd.SetAction(async (parse, ct) =>
        {
            JsonDocument doc;
            TreeHeadVerifier verifier;
            try
            {
                doc = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.GetFullPath(parse.GetValue(file)!, context.WorkingDirectory), ct).ConfigureAwait(false));
                verifier = new TreeHeadVerifier(await File.ReadAllTextAsync(Path.GetFullPath(parse.GetValue(key)!, context.WorkingDirectory), ct).ConfigureAwait(false));
            }
            catch (Exception e) when (e is IOException or JsonException or ArgumentException or System.Security.Cryptography.CryptographicException)
            {
                await context.Error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            using (doc)
            using (verifier)
            {
                if (!doc.RootElement.TryGetProperty("format", out var f) || f.GetString() != IncidentBundle.Format)
                {
                    await context.Error.WriteLineAsync($"error: not a {IncidentBundle.Format} bundle").ConfigureAwait(false);
                    return ExitCodes.UsageOrInputError;
                }

                var problems = IncidentBundle.Verify(doc.RootElement, verifier, parse.GetValue(evidenceDir) is { } d ? Path.GetFullPath(d, context.WorkingDirectory) : null);
                foreach (var p in problems)
                {
                    context.Out.WriteLine($"FAIL {p}");
                }

                if (problems.Count == 0)
                {
                    context.Out.WriteLine($"OK {doc.RootElement.GetProperty("incident").GetProperty("id").GetString()}: signature, {doc.RootElement.GetProperty("trail").GetProperty("events").GetArrayLength()} events with their proofs, and the incident's state verified");
                }

                return problems.Count == 0 ? ExitCodes.Ok : ExitCodes.Findings;
            }
        });
        return cmd;
    }
}
