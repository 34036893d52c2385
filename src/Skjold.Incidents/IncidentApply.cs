using System.Globalization;

namespace Skjold.Incidents;

/// <summary>
/// Runs an incident's runbook: each executable step first as a server-side dry run, then (after confirmation for
/// disruptive steps) for real; each step's outcome, with a summary of the API's answers and the evidence hashes, is
/// sealed in the trail before the next starts, so an apply that crashes resumes after the last recorded step.
/// Guidance and manual steps are shown, not executed, and never recorded as done.
/// </summary>
public sealed class IncidentApply(IncidentJournal journal, RunbookExecutor executor)
{
    public async Task<IReadOnlyList<StepOutcome>> ApplyAsync(Incident incident, IReadOnlyList<RunbookStep> steps, int? only, bool dryRun,
        Func<RunbookStep, bool> confirm, string actor, Action<StepOutcome>? progress, CancellationToken ct)
    {
        var outcomes = new List<StepOutcome>();
        foreach (var step in steps)
        {
            if (only is { } n && step.Number != n)
            {
                continue;
            }

            if (only is null && incident.AppliedSteps.Contains(step.Number))
            {
                Report(new StepOutcome(step.Number, step.Title, StepOutcome.Skipped, "done earlier (sealed in the trail)", []));
                continue;
            }

            if (step.Kind == StepKind.Guidance)
            {
                Report(await executor.RunAsync(incident, step, dryRun: true, ct).ConfigureAwait(false));
                continue;
            }

            var rehearsal = await executor.RunAsync(incident, step, dryRun: true, ct).ConfigureAwait(false);
            if (rehearsal.Mode is StepOutcome.Failed or StepOutcome.Skipped or StepOutcome.Waiting)
            {
                await RecordAsync(incident, rehearsal, actor, ct).ConfigureAwait(false);
                Report(rehearsal);
                if (rehearsal.Mode != StepOutcome.Skipped)
                {
                    break;
                }

                continue;
            }

            if (dryRun)
            {
                await RecordAsync(incident, rehearsal, actor, ct).ConfigureAwait(false);
                Report(rehearsal);
                continue;
            }

            if (step.Disruptive && !confirm(step))
            {
                Report(new StepOutcome(step.Number, step.Title, StepOutcome.Skipped, "not confirmed: stopped here (apply again to continue)", []));
                break;
            }

            var outcome = await executor.RunAsync(incident, step, dryRun: false, ct).ConfigureAwait(false);
            await RecordAsync(incident, outcome, actor, ct).ConfigureAwait(false);
            Report(outcome);
            if (outcome.Mode is StepOutcome.Failed or StepOutcome.Waiting)
            {
                break;
            }
        }

        return outcomes;

        void Report(StepOutcome o)
        {
            outcomes.Add(o);
            progress?.Invoke(o);
        }
    }

    private Task<long> RecordAsync(Incident incident, StepOutcome o, string actor, CancellationToken ct) =>
        journal.RecordAsync(IncidentEvents.Action, $"incident {incident.Id}: step {o.Step} {o.Mode}", IncidentEvents.Changed(incident.Id, actor, new Dictionary<string, string>
        {
            ["step"] = o.Step.ToString(CultureInfo.InvariantCulture),
            ["title"] = o.Title,
            ["mode"] = o.Mode,
            ["summary"] = o.Summary,
            ["evidence"] = string.Join(";", o.Evidence.Select(e => $"{e.Name}=sha256:{e.Sha256}")),
        }), ct);
}
