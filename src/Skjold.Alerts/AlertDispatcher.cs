using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Skjold.Alerts.Outbox;
using Skjold.Alerts.Outputs;
using Skjold.Detection.Falco;

namespace Skjold.Alerts;

/// <summary>A rate limit per rule: at most <see cref="Alerts"/> alerts of one rule per <see cref="Per"/>; the rest are counted in one summary alert.</summary>
public sealed record RateLimit(int Alerts, TimeSpan Per);

/// <summary>An output with what it takes: alerts at or above <see cref="MinPriority"/>, at most so many per rule.</summary>
public sealed record OutputBinding(IAlertOutput Output, FalcoPriority MinPriority = FalcoPriority.Debug, RateLimit? RateLimit = null, int BatchSize = 200)
{
    public bool Accepts(Alert alert) => alert.Priority <= MinPriority; // Falco's order: Emergency (0) is the most severe
}

/// <summary>Timing of delivery: back-off after failures, how often to look for work.</summary>
public sealed record AlertDispatcherOptions
{
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often an idle output looks at the outbox (other replicas may have queued alerts).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How often an output with unconfirmed alerts checks its connection.</summary>
    public TimeSpan ConfirmInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long disposal waits for outputs to deliver what is queued.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Delivered rows are kept this long (so a late duplicate is still recognised), then pruned.</summary>
    public TimeSpan KeepDelivered { get; init; } = TimeSpan.FromDays(7);
}

/// <summary>Counters of one output, read by the metrics endpoint.</summary>
public sealed class AlertOutputStats
{
    internal long DeliveredCount;
    internal long FailureCount;
    internal long SuppressedCount;
    internal long DepthValue;

    public long Delivered => Interlocked.Read(ref DeliveredCount);

    public long Failures => Interlocked.Read(ref FailureCount);

    public long Suppressed => Interlocked.Read(ref SuppressedCount);

    /// <summary>Alerts waiting in the outbox, as last counted.</summary>
    public long Depth => Interlocked.Read(ref DepthValue);

    public string? LastError { get; internal set; }
}

/// <summary>
/// Moves alerts from the durable outbox to the outputs: one loop per output, in the outbox's order;
/// a failing output backs off exponentially (with jitter) and retries from its first unconfirmed
/// alert without holding up ingestion or the other outputs; alerts left undelivered at a stop are
/// sent after the next start. <see cref="EnqueueAsync"/> returns once the alerts are durable.
/// </summary>
public sealed partial class AlertDispatcher : IAsyncDisposable
{
    /// <summary>The rule of the summary alert that stands for alerts a rate limit held back.</summary>
    public const string RateLimitedRule = "Skjold alerts held back by a rate limit";

    private readonly AlertOutbox _outbox;
    private readonly IReadOnlyList<OutputBinding> _outputs;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly AlertDispatcherOptions _options;
    private readonly ConcurrentDictionary<string, AlertOutputStats> _stats = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Signal> _signals = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private volatile bool _draining;

    public AlertDispatcher(AlertOutbox outbox, IReadOnlyList<OutputBinding> outputs, ILogger logger, TimeProvider? time = null, AlertDispatcherOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        var names = outputs.GroupBy(o => o.Output.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (names is not null)
        {
            throw new ArgumentException($"two outputs are named '{names.Key}'", nameof(outputs));
        }

        _outbox = outbox;
        _outputs = outputs;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _options = options ?? new AlertDispatcherOptions();
        foreach (var o in outputs)
        {
            _stats[o.Output.Name] = new AlertOutputStats();
            _signals[o.Output.Name] = new Signal();
        }
    }

    public IReadOnlyDictionary<string, AlertOutputStats> Stats => _stats;

    public IReadOnlyList<OutputBinding> Outputs => _outputs;

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _outbox.InitializeAsync(cancellationToken).ConfigureAwait(false);
        await _outbox.PruneAsync(_time.GetUtcNow() - _options.KeepDelivered, cancellationToken).ConfigureAwait(false);
        await RefreshDepthsAsync(cancellationToken).ConfigureAwait(false); // from here the loops and enqueues keep the count
        foreach (var b in _outputs)
        {
            _loops.Add(Task.Run(() => RunAsync(b, _stop.Token), CancellationToken.None));
        }
    }

    /// <summary>
    /// Reads each output's queue depth from the outbox, so <see cref="AlertOutputStats.Depth"/> also counts alerts another
    /// replica queued; between refreshes it follows this dispatcher's own enqueues, deliveries and suppressions (rows
    /// changed, no count query on the delivery path). A failing store keeps the last value.
    /// </summary>
    public async Task RefreshDepthsAsync(CancellationToken cancellationToken = default)
    {
        foreach (var b in _outputs)
        {
            try
            {
                Interlocked.Exchange(ref _stats[b.Output.Name].DepthValue, await _outbox.DepthAsync(b.Output.Name, cancellationToken).ConfigureAwait(false));
            }
            catch (System.Data.Common.DbException)
            {
                // the store is failing; the delivery loop reports it
            }
        }
    }

    /// <summary>Queues alerts for every output that takes them; durable when the task completes. Returns the rows added.</summary>
    public async Task<int> EnqueueAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        var items = new List<(string, Alert)>();
        foreach (var a in alerts)
        {
            foreach (var b in _outputs)
            {
                if (b.Accepts(a))
                {
                    items.Add((b.Output.Name, a));
                }
            }
        }

        var added = await _outbox.EnqueueByOutputAsync(items, cancellationToken).ConfigureAwait(false);
        var total = 0;
        foreach (var (name, n) in added)
        {
            Interlocked.Add(ref _stats[name].DepthValue, n); // the gauge counts what waits now, also while an output is in back-off
            _signals[name].Set();
            total += n;
        }

        return total;
    }

    private async Task RunAsync(OutputBinding binding, CancellationToken stop)
    {
        var output = binding.Output;
        var name = output.Name;
        var stats = _stats[name];
        var signal = _signals[name];
        var limiter = binding.RateLimit is { } rl ? new RuleRateLimiter(rl) : null;
        IAsyncDisposable? lease = null;
        long sent = 0, confirmed = 0, decided = 0;
        var inFlight = new Queue<long>();
        var failures = 0;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    lease ??= await _outbox.TryLeaseAsync(name, stop).ConfigureAwait(false);
                    if (lease is null)
                    {
                        await Task.Delay(_options.PollInterval, _time, stop).ConfigureAwait(false); // another replica delivers this output
                        continue;
                    }

                    if (limiter is not null)
                    {
                        await EmitSummariesAsync(name, limiter, stop).ConfigureAwait(false);
                    }

                    var rows = await _outbox.PendingAsync(name, sent, binding.BatchSize, stop).ConfigureAwait(false);
                    long known;
                    if (rows.Count > 0)
                    {
                        var send = new List<OutboxEntry>(rows.Count);
                        var now = _time.GetUtcNow();
                        foreach (var row in rows)
                        {
                            if (limiter is not null && row.Seq > decided && row.Alert.Rule != RateLimitedRule && !limiter.Allow(row.Alert.Rule, row.Alert.Priority, now))
                            {
                                Interlocked.Add(ref stats.DepthValue, -await _outbox.MarkSuppressedAsync(name, row.Seq, stop).ConfigureAwait(false));
                                Interlocked.Increment(ref stats.SuppressedCount);
                            }
                            else
                            {
                                send.Add(row);
                            }

                            decided = Math.Max(decided, row.Seq);
                        }

                        known = send.Count > 0 ? await output.SendAsync(send, stop).ConfigureAwait(false) : await output.ConfirmAsync(stop).ConfigureAwait(false);
                        foreach (var s in send)
                        {
                            inFlight.Enqueue(s.Seq);
                        }

                        sent = rows[^1].Seq;
                    }
                    else if (inFlight.Count > 0)
                    {
                        known = await output.ConfirmAsync(stop).ConfigureAwait(false);
                        if (known <= confirmed)
                        {
                            await Task.Delay(_options.ConfirmInterval, _time, stop).ConfigureAwait(false);
                            continue;
                        }
                    }
                    else
                    {
                        Interlocked.Exchange(ref stats.DepthValue, 0);
                        if (_draining)
                        {
                            return;
                        }

                        await signal.WaitAsync(_options.PollInterval, _time, stop).ConfigureAwait(false);
                        continue;
                    }

                    if (known > confirmed)
                    {
                        Interlocked.Add(ref stats.DepthValue, -await _outbox.MarkDeliveredAsync(name, known, stop).ConfigureAwait(false));
                        confirmed = known;
                        while (inFlight.TryPeek(out var head) && head <= known)
                        {
                            inFlight.Dequeue();
                            Interlocked.Increment(ref stats.DeliveredCount);
                        }
                    }

                    failures = 0;
                }
                catch (Exception ex) when (ex is AlertDeliveryException or System.Data.Common.DbException or IOException or InvalidDataException && !stop.IsCancellationRequested)
                {
                    failures++;
                    Interlocked.Increment(ref stats.FailureCount);
                    stats.LastError = ex.Message;
                    await output.ResetAsync().ConfigureAwait(false);
                    sent = confirmed; // resend everything unconfirmed, in order
                    inFlight.Clear();
                    var delay = Backoff(failures);
                    AlertsLog.DeliveryFailed(_logger, name, failures, delay.TotalSeconds, ex.Message);
                    try
                    {
                        await _outbox.RecordFailureAsync(name, confirmed + 1, ex.Message, stop).ConfigureAwait(false);
                    }
                    catch (System.Data.Common.DbException)
                    {
                        // the store itself is failing; the next attempt tries again
                    }

                    if (_draining)
                    {
                        return; // undelivered alerts stay queued for the next start
                    }

                    await Task.Delay(delay, _time, stop).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            if (lease is not null)
            {
                await lease.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task EmitSummariesAsync(string output, RuleRateLimiter limiter, CancellationToken stop)
    {
        var due = limiter.Due(_time.GetUtcNow());
        if (due.Count == 0)
        {
            return;
        }

        var items = due.Select(d => (output, new Alert
        {
            Id = Alert.IdForContent($"{output}\n{d.Rule}\n{d.Window.ToString(CultureInfo.InvariantCulture)}"),
            Time = d.Last,
            Rule = RateLimitedRule,
            Priority = d.Highest,
            Source = "skjold",
            Output = $"{d.Suppressed} alerts of rule '{d.Rule}' were held back by output '{output}' between {d.First:O} and {d.Last:O} (rate limit); every one is sealed in the audit trail (skjold audit query --verb detection-alert)",
            Fields = new Dictionary<string, string>
            {
                ["rule"] = d.Rule,
                ["suppressed"] = d.Suppressed.ToString(CultureInfo.InvariantCulture),
            },
        })).ToList();
        await _outbox.EnqueueAsync(items, stop).ConfigureAwait(false);
    }

    private TimeSpan Backoff(int failures)
    {
        var exp = Math.Min(failures - 1, 20);
        var ms = Math.Min(_options.InitialBackoff.TotalMilliseconds * Math.Pow(2, exp), _options.MaxBackoff.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(ms * (0.75 + (Random.Shared.NextDouble() * 0.25))); // jitter, so replicas do not retry in step
    }

    /// <summary>Lets the outputs deliver what is queued (up to the drain timeout), then stops them.</summary>
    public async ValueTask DisposeAsync()
    {
        _draining = true;
        foreach (var s in _signals.Values)
        {
            s.Set();
        }

        var all = Task.WhenAll(_loops);
        if (await Task.WhenAny(all, Task.Delay(_options.DrainTimeout, _time)).ConfigureAwait(false) != all)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }

        try
        {
            await all.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        foreach (var b in _outputs)
        {
            await b.Output.DisposeAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    /// <summary>A wake-up for an output loop: set by enqueue, awaited with a timeout on the dispatcher's clock.</summary>
    private sealed class Signal
    {
        private TaskCompletionSource _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Set() => Volatile.Read(ref _tcs).TrySetResult();

        public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken ct)
        {
            var tcs = Volatile.Read(ref _tcs);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var delay = Task.Delay(timeout, time, cts.Token);
            await Task.WhenAny(tcs.Task, delay).ConfigureAwait(false);
            await cts.CancelAsync().ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            if (tcs.Task.IsCompleted)
            {
                Interlocked.CompareExchange(ref _tcs, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), tcs);
            }
        }
    }
}
