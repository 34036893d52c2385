using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Skjold.Audit.Events;
using Skjold.Audit.Signing;
using Skjold.Audit.Storage;

namespace Skjold.Audit;

/// <summary>
/// The write side of the audit trail. Callers hand over events; each is redacted, canonicalised and
/// hashed on the caller's thread, then a single writer commits pending batches together (group
/// commit: one durable transaction for many concurrent callers) and completes each caller only after
/// its events are durable. Tree heads are signed every N events or T seconds.
/// </summary>
public sealed class AuditLog : IAsyncDisposable
{
    private readonly IAuditStore _store;
    private AuditKeys _keys;
    private readonly AuditLogOptions _options;
    private readonly TimeProvider _time;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly ThreadLocal<KeyedRedactor> _redactors;
    private readonly SemaphoreSlim _prepareGate = new(Math.Max(1, Environment.ProcessorCount - 1));
    private readonly SemaphoreSlim _splitGate = new(1, 1);
    private int _appendsInFlight;
    private Task? _writer;
    private long _lastSignedSize;
    private long _size;
    private DateTimeOffset _lastSigned;

    private readonly ILogger _logger;
    private readonly AuditLogSubscriptions _subscriptions;

    public AuditLog(IAuditStore store, AuditKeys keys, AuditLogOptions? options = null, TimeProvider? time = null, ILogger<AuditLog>? logger = null)
    {
        _store = store;
        _keys = keys;
        _options = options ?? new AuditLogOptions();
        _time = time ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _subscriptions = new AuditLogSubscriptions(_logger);
        _redactors = new ThreadLocal<KeyedRedactor>(() => new KeyedRedactor(_keys.RedactionKey, _options.Redaction));
    }

    /// <summary>
    /// Tells <paramref name="observer"/> about every batch committed from now on, after it is
    /// durable, in commit order (see <see cref="IAuditLogObserver"/>). Dispose the result to stop;
    /// disposing the log delivers what is queued first. With <paramref name="gather"/>, the observer
    /// waits that long after a batch arrives so the batches committed meanwhile reach it in the same
    /// call (fewer, larger calls under load, at that much latency).
    /// </summary>
    public IAsyncDisposable Subscribe(IAuditLogObserver observer, TimeSpan gather = default)
    {
        ArgumentNullException.ThrowIfNull(observer);
        ArgumentOutOfRangeException.ThrowIfLessThan(gather, TimeSpan.Zero);
        return _subscriptions.Add(observer, gather);
    }

    public IAuditStore Store => _store;

    /// <summary>Time the single writer spent in the store's append (rows, commit, fsync): diagnostics for benchmarks.</summary>
    internal TimeSpan WriterBusy { get; private set; }

    /// <summary>Group commits made so far.</summary>
    internal long Commits { get; private set; }

    public AuditKeys Keys => Volatile.Read(ref _keys);

    /// <summary>
    /// Rotates the signing key: records the new public key in the log, signs a head covering that
    /// record with the old key (so a verifier who trusts the old key learns the new one from the
    /// log), then signs with the new key from now on. Returns the old keys (the caller disposes).
    /// </summary>
    public async Task<AuditKeys> RotateKeyAsync(AuditKeys newKeys, CancellationToken ct)
    {
        var old = Keys;
        var details = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [Retention.RecordPrefix + "rotate.old-key-id"] = old.KeyId,
            [Retention.RecordPrefix + "rotate.new-key-id"] = newKeys.KeyId,
            [Retention.RecordPrefix + "rotate.new-key"] = newKeys.PublicKeyPem,
        };
        await RecordSystemEventAsync("rotate-key", $"signing key {old.KeyId} rotated to {newKeys.KeyId}", details, ct).ConfigureAwait(false);
        await SignNowAsync(ct).ConfigureAwait(false);
        Volatile.Write(ref _keys, newKeys);
        return old;
    }

    /// <summary>
    /// Checks that the rows agree with the tree state (refusing, with the first bad leaf, a store
    /// changed outside Skjold), seals what an unclean stop left unsigned, and starts the writer.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _store.CheckStateAsync(cancellationToken).ConfigureAwait(false);
        (_size, _) = await _store.StateAsync(cancellationToken).ConfigureAwait(false);
        var heads = await _store.TreeHeadsAsync(cancellationToken).ConfigureAwait(false);
        _lastSignedSize = heads.Count > 0 ? heads[^1].Size : 0;
        _lastSigned = _time.GetUtcNow();
        if (_size > _lastSignedSize)
        {
            await SignAsync(_size, force: false, cancellationToken).ConfigureAwait(false);
        }

        _writer = Task.Run(() => WriteLoopAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>Seals events; completes when they are durable. Returns the first leaf index and the tree after the batch.</summary>
    public async Task<AppendResult> AppendAsync(IReadOnlyList<JsonElement> events, IngestOffset? offset = null, CancellationToken cancellationToken = default)
    {
        if (_writer is null)
        {
            throw new InvalidOperationException("the audit log is not started");
        }

        Interlocked.Increment(ref _appendsInFlight);
        try
        {
            // At most one preparing thread fewer than there are cores, so that the single writer
            // always has one; a batch is prepared in parallel only when no other append is in flight.
            PreparedEvent[] prepared;
            await _prepareGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                prepared = Prepare(events, parallel: Volatile.Read(ref _appendsInFlight) == 1);
            }
            finally
            {
                _prepareGate.Release();
            }

            return await EnqueueAsync(prepared, offset, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _appendsInFlight);
        }
    }

    private async Task<AppendResult> EnqueueAsync(PreparedEvent[] prepared, IngestOffset? offset, CancellationToken cancellationToken)
    {
        if (offset is null && prepared.Length > _options.MaxBatch)
        {
            // At most a batch per commit, so that no more than SignEvery + MaxBatch events are ever
            // unsigned (verification holds the log to that). The slices stay in order.
            var slices = prepared.Chunk(_options.MaxBatch).Select(slice =>
                new Pending(slice, null, new TaskCompletionSource<AppendResult>(TaskCreationOptions.RunContinuationsAsynchronously))).ToList();
            await _splitGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                // The writer takes each slice whole and in order; the gate keeps another large append's slices out between them.
                foreach (var slice in slices)
                {
                    await _queue.Writer.WriteAsync(slice, cancellationToken).ConfigureAwait(false);
                }

                await slices[^1].Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _splitGate.Release();
            }

            var results = await Task.WhenAll(slices.Select(p => p.Done.Task)).WaitAsync(cancellationToken).ConfigureAwait(false);
            return new AppendResult(results[0].FirstIndex, results[^1].Size, results[^1].Root);
        }

        var pending = new Pending(prepared, offset, new TaskCompletionSource<AppendResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        await _queue.Writer.WriteAsync(pending, cancellationToken).ConfigureAwait(false);
        return await pending.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Redacts, canonicalises and hashes events (in parallel for large batches, when <paramref name="parallel"/>).</summary>
    public PreparedEvent[] Prepare(IReadOnlyList<JsonElement> events, bool parallel = true)
    {
        var prepared = new PreparedEvent[events.Count];
        if (events.Count < 256 || !parallel)
        {
            for (var i = 0; i < events.Count; i++)
            {
                prepared[i] = AuditEventReader.Prepare(events[i], _redactors.Value!);
            }
        }
        else
        {
            Parallel.For(0, events.Count, i => prepared[i] = AuditEventReader.Prepare(events[i], _redactors.Value!));
        }

        return prepared;
    }

    /// <summary>Signs and stores a tree head for everything committed so far (if anything is unsigned).</summary>
    public Task<SignedTreeHead?> SignNowAsync(CancellationToken cancellationToken) =>
        SignAsync(0, force: true, cancellationToken); // the store's current state is read under the lock

    private async Task<SignedTreeHead?> SignAsync(long size, bool force, CancellationToken ct)
    {
        if (!force && (size == 0 || size <= Interlocked.Read(ref _lastSignedSize)))
        {
            return null;
        }

        // Reading the previous head and storing the new one happen in one transaction under the
        // sequencing lock, so replicas sharing a store chain their heads in order (and one that
        // reads an older state than another has signed is not mistaken for a deleted event).
        var lastOwn = Interlocked.Read(ref _lastSignedSize);
        var sth = await _store.SignTreeHeadAsync((s, r, previous, index) =>
        {
            if ((previous?.Size ?? 0) < lastOwn)
            {
                throw new AuditStoreTamperedException(lastOwn, $"this writer signed a tree head at size {lastOwn}, which is no longer in the store: tree heads were deleted; nothing more is signed (run 'skjold audit verify')");
            }

            return Keys.Sign(s, _time.GetUtcNow(), r, previous, index);
        }, ct).ConfigureAwait(false);
        if (sth is null)
        {
            return null;
        }

        if (sth.Size > Interlocked.Read(ref _lastSignedSize))
        {
            Interlocked.Exchange(ref _lastSignedSize, sth.Size);
        }

        _lastSigned = _time.GetUtcNow();
        AuditLogLog.Signed(_logger, sth.Size, sth.KeyId);
        return sth;
    }

    private async Task WriteLoopAsync(CancellationToken ct)
    {
        var batch = new List<Pending>();
        var events = new List<PreparedEvent>();
        while (!ct.IsCancellationRequested)
        {
            batch.Clear();
            events.Clear();
            try
            {
                // The quiet-interval timer runs on the log's clock, so a fake clock drives it in tests.
                using var quiet = new CancellationTokenSource(_options.SignInterval, _time);
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct, quiet.Token);
                var first = await _queue.Reader.ReadAsync(wait.Token).ConfigureAwait(false);
                batch.Add(first);
                events.AddRange(first.Events);
                // Group commit: take what else is waiting, but keep offset-bearing batches on their own.
                while (first.Offset is null && events.Count < _options.MaxBatch && _queue.Reader.TryPeek(out var next) && next.Offset is null
                       && _queue.Reader.TryRead(out next))
                {
                    batch.Add(next);
                    events.AddRange(next.Events);
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                // Quiet for a sign interval: seal what is unsigned.
                await TrySignAsync(ct).ConfigureAwait(false);
                continue;
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (ChannelClosedException)
            {
                break;
            }

            try
            {
                var t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                var result = await _store.AppendAsync(events, batch[0].Offset, CancellationToken.None).ConfigureAwait(false);
                WriterBusy += System.Diagnostics.Stopwatch.GetElapsedTime(t0);
                Commits++;
                _size = result.Size;
                // Queue the batch for observers before acknowledging the appenders (Publish never waits):
                // whoever is subscribed when an append returns has that batch, even if it unsubscribes next.
                if (_subscriptions.Any)
                {
                    _subscriptions.Publish(new CommittedBatch(result.FirstIndex, result.Size, events.ToArray()));
                }

                var index = result.FirstIndex;
                foreach (var p in batch)
                {
                    p.Done.TrySetResult(new AppendResult(index, result.Size, result.Root));
                    index += p.Events.Length;
                }

                if (result.Size - Interlocked.Read(ref _lastSignedSize) >= _options.SignEvery
                    || _time.GetUtcNow() - _lastSigned >= _options.SignInterval)
                {
                    await SignAsync(result.Size, force: false, CancellationToken.None).ConfigureAwait(false);
                }
            }
            catch (Exception ex)
            {
                AuditLogLog.CommitFailed(_logger, ex, events.Count);
                foreach (var p in batch)
                {
                    p.Done.TrySetException(ex);
                }
            }
        }

        // Drain: fail what is left so that no caller waits forever.
        while (_queue.Reader.TryRead(out var left))
        {
            left.Done.TrySetException(new OperationCanceledException("the audit log is shutting down"));
        }
    }

    private async Task TrySignAsync(CancellationToken ct)
    {
        try
        {
            if (_size > Interlocked.Read(ref _lastSignedSize))
            {
                await SignAsync(_size, force: false, ct).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            // The next batch or interval tries again; the failure is not silent.
            AuditLogLog.SignFailed(_logger, ex);
        }
    }

    /// <summary>Records a retention purge in the log itself, as a Skjold audit event.</summary>
    public Task<AppendResult> RecordSystemEventAsync(string verb, string message, IReadOnlyDictionary<string, string> details, CancellationToken ct) =>
        AppendAsync([SystemEvent(verb, message, details)], null, ct);

    /// <summary>Seals several of Skjold's own records in one batch (one durable commit); the first lands at the result's FirstIndex, the rest after it in order.</summary>
    public Task<AppendResult> RecordSystemEventsAsync(IReadOnlyList<(string Verb, string Message, IReadOnlyDictionary<string, string> Details)> records, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(records);
        return AppendAsync([.. records.Select(r => SystemEvent(r.Verb, r.Message, r.Details))], null, ct);
    }

    private JsonElement SystemEvent(string verb, string message, IReadOnlyDictionary<string, string> details)
    {
        var now = _time.GetUtcNow();
        var obj = new Dictionary<string, object?>
        {
            ["kind"] = "Event",
            ["apiVersion"] = "audit.k8s.io/v1",
            ["level"] = "Metadata",
            ["auditID"] = Guid.NewGuid().ToString(),
            ["stage"] = "ResponseComplete",
            ["verb"] = verb,
            ["requestURI"] = "skjold://audit/" + verb,
            ["user"] = new Dictionary<string, object?> { ["username"] = "skjold:audit", ["groups"] = new[] { "skjold:system" } },
            ["objectRef"] = new Dictionary<string, object?> { ["resource"] = "auditlog", ["apiGroup"] = "skjold.io" },
            ["responseStatus"] = new Dictionary<string, object?> { ["code"] = 200, ["message"] = message },
            ["requestReceivedTimestamp"] = now.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", System.Globalization.CultureInfo.InvariantCulture),
            ["stageTimestamp"] = now.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", System.Globalization.CultureInfo.InvariantCulture),
            ["annotations"] = details,
        };
        return JsonSerializer.SerializeToElement(obj, AuditJsonContext.Default.DictionaryStringObject);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_writer is not null)
        {
            await _writer.ConfigureAwait(false);
            await TrySignAsync(CancellationToken.None).ConfigureAwait(false);
        }

        await _subscriptions.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
        _redactors.Dispose();
        _prepareGate.Dispose();
        _splitGate.Dispose();
    }

    private sealed record Pending(PreparedEvent[] Events, IngestOffset? Offset, TaskCompletionSource<AppendResult> Done);
}
