using Microsoft.Extensions.Time.Testing;
using Skjold.Audit;
using Skjold.Audit.Signing;
using Skjold.Audit.Storage;

namespace Skjold.Incidents.Tests;

/// <summary>A drill recorded through <see cref="DrillJournal"/> into a real SQLite trail and read back as an incident.</summary>
public sealed class DrillJournalTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 9, 0, 0, TimeSpan.Zero);
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-drill-").FullName;
    private AuditKeys _keys = null!;
    private SqliteAuditStore _store = null!;
    private AuditLog _log = null!;

    public async Task InitializeAsync()
    {
        _keys = AuditKeys.Create(_dir);
        _store = new SqliteAuditStore(_dir);
        await _store.InitializeAsync(default);
        _log = new AuditLog(_store, _keys, new AuditLogOptions { SignEvery = 10 }, new FakeTimeProvider(Now));
        await _log.StartAsync(default);
    }

    public async Task DisposeAsync()
    {
        await _log.DisposeAsync();
        await _store.DisposeAsync();
        _keys.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, true);
    }

    [Fact]
    public async Task OpenPlanClose_ReadsBackAsAClosedDrillWithEveryStepPlanned()
    {
        var journal = new IncidentJournal(_store, _log);
        var drill = new DrillJournal(journal, "oncall@bank.example");
        var target = new IncidentTarget("pod", "payments", "ledger-1");
        await drill.OpenAsync("INC-DRILL-1", IncidentType.PodCompromise, [target], Now, default);
        var opened = await journal.FindAsync("INC-DRILL-1", default);
        Assert.NotNull(opened);
        var steps = RunbookPlans.For(opened);
        foreach (var step in steps)
        {
            await drill.RecordPlannedAsync("INC-DRILL-1", step, DrillJournal.PlannedSummary(step), default);
        }

        await drill.CloseAsync("INC-DRILL-1", "drill passed", default);
        var i = await journal.FindAsync("INC-DRILL-1", default);

        Assert.NotNull(i);
        Assert.True(i.Drill);
        Assert.Equal(IncidentStatus.Closed, i.Status);
        Assert.Equal("drill passed", i.Resolution);
        Assert.Equal("low", i.Severity);
        Assert.Equal("oncall@bank.example", i.Owner);
        Assert.False(i.PersonalData.Involved);
        Assert.Equal(target, Assert.Single(i.Targets));
        Assert.Empty(i.AppliedSteps);
        var actions = i.Timeline.Where(e => e.Kind == IncidentEvents.Action).ToList();
        Assert.Equal(steps.Count, actions.Count);
        Assert.All(actions, a => Assert.Contains(": " + StepOutcome.DryRun + ": ", a.Text, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnIncidentWhoseTextMentionsADrill_IsNotADrill()
    {
        var journal = new IncidentJournal(_store, _log);
        var fields = IncidentEvents.Opened("INC-REAL-1", IncidentType.SecretExposed, [new IncidentTarget("secret", "shop", "db")], "high", Now, "alice", "alice",
            new PersonalDataAssessment(null, null));
        await journal.RecordAsync(IncidentEvents.Open, "incident INC-REAL-1 opened (drill)", fields, default);
        await journal.RecordAsync(IncidentEvents.Note, "note", IncidentEvents.Changed("INC-REAL-1", "alice", new Dictionary<string, string> { ["note"] = "(drill)" }), default);

        var i = await journal.FindAsync("INC-REAL-1", default);

        Assert.NotNull(i);
        Assert.False(i.Drill);
    }

    [Fact]
    public void PlannedSummary_RequestsForApiSteps_ManualForPeople()
    {
        var api = new RunbookStep(1, "Isolate", "deny traffic", [], [], true) { Kind = StepKind.IsolatePod };
        var manual = new RunbookStep(2, "Call the DPO", "decide", [], [], false, Manual: true);
        Assert.StartsWith("planned on the snapshot:", DrillJournal.PlannedSummary(api), StringComparison.Ordinal);
        Assert.Equal("manual step", DrillJournal.PlannedSummary(manual));
        Assert.Equal("guidance", DrillJournal.PlannedSummary(manual with { Manual = false }));
    }
}
