using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Skjold.Alerts;
using Skjold.Alerts.Configuration;
using Skjold.Alerts.Outbox;
using Skjold.Audit;
using Skjold.Detection.Falco;
using Skjold.Detection.Skjold;

namespace Skjold.Server.Detection;

/// <summary>
/// Detection and forwarding for one audit log, composed once for every host (<c>skjold serve</c>,
/// <c>skjold audit serve</c>): the detector subscribed to the log's durable batches, and, when
/// outputs are configured, the alert outbox in the trail's store with its dispatcher. Disposal
/// runs in the safe order: the detector finishes the batches it was given (their alerts are
/// sealed and queued), then the dispatcher drains what it can; what it cannot stays queued.
/// </summary>
public sealed class DetectionPipeline : IAsyncDisposable
{
    private readonly ConcurrentDictionary<(string Rule, FalcoPriority Priority), long> _raised = new();
    private IAsyncDisposable? _subscription;

    private DetectionPipeline(AlertDispatcher? dispatcher) => Dispatcher = dispatcher;

    /// <summary>How long the detector waits for more committed batches before judging what it has.</summary>
    public static readonly TimeSpan GatherWindow = TimeSpan.FromMilliseconds(20);

    /// <summary>The dispatcher (null without outputs).</summary>
    public AlertDispatcher? Dispatcher { get; }

    public AuditDetector? Detector { get; private set; }

    /// <summary>Alerts raised, by rule and priority (for <c>skjold_alerts_total</c>).</summary>
    public IReadOnlyDictionary<(string Rule, FalcoPriority Priority), long> Raised => _raised;

    /// <summary>The outbox of a trail: a file beside the embedded store, or a table in the trail's PostgreSQL database.</summary>
    public static AlertOutbox OutboxFor(AuditStoreLocation location, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(location);
        return location.IsPostgres
            ? AlertOutbox.Postgres(location.Postgres!, time)
            : AlertOutbox.Sqlite(Path.Combine(location.DataDirectory, AlertOutbox.FileName), time);
    }

    /// <summary>Starts forwarding (when <paramref name="outputs"/> has any) and subscribes the detector (when there are rules).</summary>
    public static async Task<DetectionPipeline> StartAsync(AuditLog log, AuditStoreLocation location, DetectionEngine? rules, IReadOnlyList<OutputDefinition> outputs,
        ILoggerFactory loggers, TimeProvider? time = null, AlertDispatcherOptions? options = null, Action<Alert>? onAlert = null, CancellationToken cancellationToken = default,
        Skjold.Incidents.AutoOpen? autoOpen = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(loggers);
        time ??= TimeProvider.System;
        AlertDispatcher? dispatcher = null;
        if (outputs.Count > 0)
        {
            dispatcher = new AlertDispatcher(OutboxFor(location, time), [.. outputs.Select(o => o.Bind(time))], loggers.CreateLogger("skjold.alerts"), time, options);
            await dispatcher.StartAsync(cancellationToken).ConfigureAwait(false);
        }

        var pipeline = new DetectionPipeline(dispatcher);
        if (rules is not null)
        {
            pipeline.Detector = new AuditDetector(log, rules, loggers.CreateLogger("skjold.detection"), a =>
            {
                pipeline.Count(a);
                onAlert?.Invoke(a);
            },
                dispatcher is null ? null : (alerts, ct) => dispatcher.EnqueueAsync(alerts, ct), time, autoOpen);
            // Batches committed within 20 ms are judged together: at a high rate one alert append and one
            // outbox commit stand for many audit commits (measured in docs/benchmarks.md, alerts-e2e).
            pipeline._subscription = log.Subscribe(pipeline.Detector, GatherWindow);
        }

        return pipeline;
    }

    /// <summary>Queues alerts that did not come from the detector (Falco's runtime alerts) for every output.</summary>
    public async Task ForwardAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        foreach (var a in alerts)
        {
            Count(a);
        }

        if (Dispatcher is not null)
        {
            await Dispatcher.EnqueueAsync(alerts, cancellationToken).ConfigureAwait(false);
        }
    }

    private void Count(Alert a) => _raised.AddOrUpdate((a.Rule, a.Priority), 1, (_, n) => n + 1);

    public async ValueTask DisposeAsync()
    {
        if (_subscription is not null)
        {
            await _subscription.DisposeAsync().ConfigureAwait(false);
        }

        if (Dispatcher is not null)
        {
            await Dispatcher.DisposeAsync().ConfigureAwait(false);
        }
    }
}
