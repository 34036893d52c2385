using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Skjold.Audit;

/// <summary>The observers of one log, each fed from its own queue by its own task, in commit order.</summary>
internal sealed class AuditLogSubscriptions(ILogger logger) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private Subscription[] _subscriptions = [];

    public bool Any => Volatile.Read(ref _subscriptions).Length > 0;

    public IAsyncDisposable Add(IAuditLogObserver observer)
    {
        var s = new Subscription(this, observer, logger);
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
        private readonly AuditLogSubscriptions _owner;
        private readonly Task _pump;

        public Subscription(AuditLogSubscriptions owner, IAuditLogObserver observer, ILogger logger)
        {
            _owner = owner;
            _pump = Task.Run(async () =>
            {
                await foreach (var batch in Queue.Reader.ReadAllAsync().ConfigureAwait(false))
                {
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

        public Channel<CommittedBatch> Queue { get; } = Channel.CreateUnbounded<CommittedBatch>(new UnboundedChannelOptions { SingleReader = true });

        public async ValueTask DisposeAsync()
        {
            _owner.Remove(this);
            Queue.Writer.TryComplete();
            await _pump.ConfigureAwait(false);
        }
    }
}
