using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Skjold.Audit.Events;

namespace Skjold.Audit;

/// <summary>The observers of one log, each fed from its own queue by its own task, in commit order.</summary>
internal sealed class AuditLogSubscriptions(ILogger logger) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private Subscription[] _subscriptions = [];

    public bool Any => Volatile.Read(ref _subscriptions).Length > 0;

    public IAsyncDisposable Add(IAuditLogObserver observer, TimeSpan gather)
    {
        var s = new Subscription(this, observer, logger, gather);
        lock (_gate)
        {
            _subscriptions = [.. _subscriptions, s];
        }

        return s;
    }

    /// <summary>Hands a durable batch to every observer's queue (never waits for an observer).</summary>
    public void Publish(CommittedBatch batch)
    {
        foreach (var s in Volatile.Read(ref _subscriptions))
        {
            s.Queue.Writer.TryWrite(batch);
        }
    }

    private void Remove(Subscription s)
    {
        lock (_gate)
        {
            _subscriptions = [.. _subscriptions.Where(x => x != s)];
        }
    }

    /// <summary>Delivers what is queued, then stops every subscription.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var s in Volatile.Read(ref _subscriptions))
        {
            await s.DisposeAsync().ConfigureAwait(false);
        }
    }

    private sealed class Subscription : IAsyncDisposable
    {
        /// <summary>At most this many events in one coalesced call.</summary>
        private const int MaxCoalesced = 4096;

        private readonly AuditLogSubscriptions _owner;
        private readonly Task _pump;

        public Subscription(AuditLogSubscriptions owner, IAuditLogObserver observer, ILogger logger, TimeSpan gather)
        {
            _owner = owner;
            _pump = Task.Run(async () =>
            {
                await foreach (var first in Queue.Reader.ReadAllAsync().ConfigureAwait(false))
                {
                    if (gather > TimeSpan.Zero && !Queue.Reader.Completion.IsCompleted)
                    {
                        // Let the batches committed in the next moment join this one. A performance knob in
                        // wall-clock time (not the log's TimeProvider: a test's frozen clock must not stall delivery).
                        await Task.Delay(gather).ConfigureAwait(false);
                    }

                    var batch = Coalesce(first, Queue.Reader);
                    try
                    {
                        await observer.OnCommittedAsync(batch, CancellationToken.None).ConfigureAwait(false);
                    }
                    catch (Exception ex)
                    {
                        AuditLogLog.ObserverFailed(logger, ex, observer.GetType().Name, batch.FirstIndex, batch.Events.Count);
                    }
                }
            });
        }

        /// <summary>
        /// The batch and those queued right behind it, as one (an observer that falls behind under load
        /// catches up with fewer, larger calls: one seal and one outbox write for many commits). Only
        /// contiguous batches are joined, so leaf i of the result is still FirstIndex + i.
        /// </summary>
        private static CommittedBatch Coalesce(CommittedBatch first, ChannelReader<CommittedBatch> reader)
        {
            if (!reader.TryPeek(out var next) || next.FirstIndex != first.FirstIndex + first.Events.Count)
            {
                return first;
            }

            var events = new List<PreparedEvent>(first.Events);
            var size = first.Size;
            while (events.Count < MaxCoalesced && reader.TryPeek(out next) && next.FirstIndex == first.FirstIndex + events.Count && reader.TryRead(out next))
            {
                events.AddRange(next.Events);
                size = next.Size;
            }

            return new CommittedBatch(first.FirstIndex, size, events);
        }

        public Channel<CommittedBatch> Queue { get; } = Channel.CreateUnbounded<CommittedBatch>(new UnboundedChannelOptions { SingleReader = true });

        public async ValueTask DisposeAsync()
        {
            _owner.Remove(this);
            Queue.Writer.TryComplete();
            await _pump.ConfigureAwait(false);
        }
    }
}
