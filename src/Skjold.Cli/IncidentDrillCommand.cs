using System.CommandLine;
using Skjold.Audit.Storage;
using Skjold.Incidents;
using Skjold.Kubernetes.Live;

namespace Skjold.Cli;

/// <summary><c>skjold incident drill</c>: a runbook rehearsed as server-side dry runs (or planned on a snapshot), recorded in the trail through <see cref="DrillJournal"/>.</summary>
internal static class IncidentDrillCommand
{
    public static Command Create(CliContext context)
    {
        var targetOptions = new IncidentTargetOptions();
        var snapshot = new Option<string?>("--snapshot") { Description = "Rehearse on a snapshot instead of the live cluster: each step's requests are planned against it and recorded" };
        var cluster = new ClusterOptions();
        var store = new AuditStoreOptions();
        var cmd = new Command("drill", "Rehearse a runbook: open a drill incident, run every step as a server-side dry run against the cluster (nothing changes), and close it with the outcome, all sealed in the trail as evidence of the exercise (ISO/IEC 27001 5.24-5.27, NIS2 21(2)(b)).") { snapshot };
        targetOptions.AddTo(cmd);
        cluster.AddTo(cmd);
        store.AddTo(cmd);
        cmd.SetAction(async (parse, ct) =>
        {
            if (await targetOptions.ParseAsync(parse, context).ConfigureAwait(false) is not (var kind, var targetOf))
            {
                return ExitCodes.UsageOrInputError;
            }

            List<IncidentTarget> targets = [targetOf];

            if (parse.GetValue(snapshot) is { } snapshotFile)
            {
                return await DrillOnSnapshotAsync(store, parse, context, kind, targets, snapshotFile, ct).ConfigureAwait(false);
            }

            if (await cluster.TryClientAsync(parse, context, "rehearse against").ConfigureAwait(false) is not { } client)
            {
                return ExitCodes.UsageOrInputError;
            }

            using (client)
            {
                var now = context.Time.GetUtcNow();
                var id = IncidentJournal.NewId(now);
                var actor = IncidentCommand.Actor(context);
                try
                {
                    store.RequireExisting(parse, context);
                    await using (var session = await store.OpenLogAsync(parse, context, ct).ConfigureAwait(false))
                    {
                        await new DrillJournal(new IncidentJournal(session.Store, session.Log), actor).OpenAsync(id, kind, targets, now, ct).ConfigureAwait(false);
                    }

                    context.Out.WriteLine($"Drill {id} ({IncidentTypes.Name(kind)} {string.Join(", ", targets)}), every step as a server-side dry run:");
                    var options = new ExecutorOptions { EvidenceDirectory = Path.Combine(Path.GetTempPath(), "skjold-drill-" + id), Time = context.Time, Force = true };
                    var result = await IncidentApplyCommand.RunAsync(store, parse, context, id, new KubernetesClusterClient(client), options, null, dryRun: true, yes: true, ct).ConfigureAwait(false);
                    await using (var session = await store.OpenLogAsync(parse, context, ct).ConfigureAwait(false))
                    {
                        var resolution = result == ExitCodes.Ok ? "drill: every step rehearsed in dry run" : "drill: a step failed in dry run (see skjold incident show)";
                        await new DrillJournal(new IncidentJournal(session.Store, session.Log), actor).CloseAsync(id, resolution, ct).ConfigureAwait(false);
                        context.Out.WriteLine(resolution);
                    }

                    return result;
                }
                catch (AuditStoreException ex)
                {
                    await context.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                    return ExitCodes.UsageOrInputError;
                }
            }
        });
        return cmd;
    }

    /// <summary>A drill on paper: the plan against a snapshot, each executable step recorded with the requests it would send.</summary>
    private static async Task<int> DrillOnSnapshotAsync(AuditStoreOptions store, ParseResult parse, CliContext context, IncidentType kind, List<IncidentTarget> targets, string snapshotFile, CancellationToken ct)
    {
        if (InputFiles.Load([snapshotFile], context) is not { } loaded)
        {
            return ExitCodes.UsageOrInputError;
        }

        var now = context.Time.GetUtcNow();
        var id = IncidentJournal.NewId(now);
        var actor = IncidentCommand.Actor(context);
        try
        {
            store.RequireExisting(parse, context);
            await using var session = await store.OpenLogAsync(parse, context, ct).ConfigureAwait(false);
            var journal = new IncidentJournal(session.Store, session.Log);
            var drill = new DrillJournal(journal, actor);
            await drill.OpenAsync(id, kind, targets, now, ct).ConfigureAwait(false);
            var incident = (await journal.FindAsync(id, ct).ConfigureAwait(false))!;
            context.Out.WriteLine($"Drill {id} ({IncidentTypes.Name(kind)} {string.Join(", ", targets)}), planned against {snapshotFile}:");
            foreach (var step in RunbookPlans.For(incident, PlanContexts.From(incident, loaded.Resources)))
            {
                var summary = DrillJournal.PlannedSummary(step);
                context.Out.WriteLine($"{step.Number}. {step.Title}: {summary}");
                await drill.RecordPlannedAsync(id, step, summary, ct).ConfigureAwait(false);
            }

            await drill.CloseAsync(id, $"drill: every step planned against snapshot {Path.GetFileName(snapshotFile)}", ct).ConfigureAwait(false);
            return ExitCodes.Ok;
        }
        catch (AuditStoreException ex)
        {
            await context.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.UsageOrInputError;
        }
    }
}
