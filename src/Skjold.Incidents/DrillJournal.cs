using System.Globalization;

namespace Skjold.Incidents;

/// <summary>
/// The trail's record of a runbook drill (ISO/IEC 27001 5.24-5.27, NIS2 21(2)(b)): a low-severity incident marked
/// as a drill, one event per rehearsed step, and a close with the outcome. Every host that runs drills goes through
/// this, so a drill reads the same in the trail whether it was rehearsed live (dry run) or planned on a snapshot.
/// </summary>
public sealed class DrillJournal(IncidentJournal journal, string actor)
{
    /// <summary>The assessment every drill is opened with: nothing real happened, so no personal data is involved.</summary>
    public static readonly PersonalDataAssessment NoPersonalData = new(false, "a drill: no real incident, no personal data");

    /// <summary>Opens the drill incident <paramref name="id"/> (marked <c>drill: yes</c>, severity low, owned by the actor).</summary>
    public async Task OpenAsync(string id, IncidentType kind, IReadOnlyList<IncidentTarget> targets, DateTimeOffset now, CancellationToken ct)
    {
        var fields = IncidentEvents.Opened(id, kind, targets, "low", now, actor, actor, NoPersonalData);
        fields[IncidentEvents.Prefix + "drill"] = "yes";
        await journal.RecordAsync(IncidentEvents.Open, $"incident {id} opened (drill)", fields, ct).ConfigureAwait(false);
    }

    /// <summary>Records that a step was planned, not carried out (mode dry-run), with what it would have sent.</summary>
    public Task RecordPlannedAsync(string id, RunbookStep step, string summary, CancellationToken ct) =>
        journal.RecordAsync(IncidentEvents.Action, $"incident {id}: step {step.Number} planned", IncidentEvents.Changed(id, actor, new Dictionary<string, string>
        {
            ["step"] = step.Number.ToString(CultureInfo.InvariantCulture),
            ["title"] = step.Title,
            ["mode"] = StepOutcome.DryRun,
            ["summary"] = summary,
            ["evidence"] = "",
        }), ct);

    /// <summary>Closes the drill with its outcome as the resolution.</summary>
    public Task CloseAsync(string id, string resolution, CancellationToken ct) =>
        journal.RecordAsync(IncidentEvents.Close, $"incident {id} closed (drill)",
            IncidentEvents.Changed(id, actor, new Dictionary<string, string> { ["resolution"] = resolution }), ct);

    /// <summary>What a planned step would do, in one line: its requests, or that a person does it.</summary>
    public static string PlannedSummary(RunbookStep step) => step.Kind == StepKind.Guidance
        ? (step.Manual ? "manual step" : "guidance")
        : $"planned on the snapshot: {string.Join("; ", step.Requests.Select(r => r.ToString()))}";
}
