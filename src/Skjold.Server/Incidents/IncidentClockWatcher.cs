using Microsoft.Extensions.Hosting;
using Skjold.Alerts;
using Skjold.Audit.Storage;
using Skjold.Detection.Falco;
using Skjold.Incidents;

namespace Skjold.Server.Incidents;

/// <summary>One deadline's state, for the metrics endpoint.</summary>
public sealed record DeadlineState(string Incident, string Regime, double SecondsLeft);

/// <summary>
/// Watches the open incidents' GDPR and NIS2 deadlines: every minute it reads the incidents from the trail, publishes
/// the time left (for /metrics), and sends a reminder through the alert outputs when a deadline is 12 hours away and
/// again when it is overdue. Reminder ids are stable per incident, deadline and kind, so the outbox sends each once,
/// across restarts.
/// </summary>
public sealed class IncidentClockWatcher(IAuditStore store, Nis2Entity nis2, Func<IReadOnlyList<Alert>, CancellationToken, Task>? forward, TimeProvider? time = null)
    : BackgroundService
{
    public const string ReminderRule = "Skjold incident deadline";
    private static readonly TimeSpan DueSoon = TimeSpan.FromHours(12);
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly HashSet<string> _sent = new(StringComparer.Ordinal);

    public IReadOnlyList<DeadlineState> Deadlines { get; private set; } = [];

    public int OpenIncidents { get; private set; }

    public int Overdue { get; private set; }

    /// <summary>One pass: read, publish, remind. Returns the reminders sent.</summary>
    public async Task<IReadOnlyList<Alert>> TickAsync(CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        var incidents = (await new IncidentJournal(store).AllAsync(ct).ConfigureAwait(false)).Where(i => i.Status != IncidentStatus.Closed && !i.Drill).ToList();
        var states = new List<DeadlineState>();
        var reminders = new List<Alert>();
        var overdue = 0;
        foreach (var i in incidents)
        {
            foreach (var d in ReportingClocks.For(i, nis2).Where(d => d.Applies))
            {
                var left = d.Left(now);
                states.Add(new DeadlineState(i.Id, d.Regime, left.TotalSeconds));
                overdue += left < TimeSpan.Zero ? 1 : 0;
                var kind = left < TimeSpan.Zero ? "overdue" : left <= DueSoon ? "due-soon" : null;
                if (kind is null)
                {
                    continue;
                }

                var id = Alert.IdForContent($"{i.Id}|{d.Regime}|{kind}");
                lock (_sent)
                {
                    if (!_sent.Add(id))
                    {
                        continue;
                    }
                }

                reminders.Add(new Alert
                {
                    Id = id,
                    Time = now,
                    Rule = ReminderRule,
                    Priority = kind == "overdue" ? FalcoPriority.Error : FalcoPriority.Warning,
                    Output = $"{i.Id} ({IncidentTypes.Name(i.Type)} {string.Join(", ", i.Targets)}): {d.Regime}, {d.What}, due {d.Due:yyyy-MM-dd HH:mm} UTC: {ReportingClocks.Describe(d, now)}",
                    Source = "skjold",
                    Tags = ["skjold", "incident", kind],
                    Fields = new Dictionary<string, string> { ["incident"] = i.Id, ["regime"] = d.Regime, ["owner"] = i.Owner },
                });
            }
        }

        Deadlines = states;
        OpenIncidents = incidents.Count;
        Overdue = overdue;
        if (reminders.Count > 0 && forward is not null)
        {
            await forward(reminders, ct).ConfigureAwait(false);
        }

        return reminders;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1), _time);
        do
        {
            try
            {
                await TickAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is AuditStoreException or InvalidOperationException or System.Data.Common.DbException)
            {
                // The next tick tries again; the receiver keeps sealing meanwhile.
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
