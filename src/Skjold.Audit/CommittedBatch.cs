using Skjold.Audit.Events;

namespace Skjold.Audit;

/// <summary>
/// Events that are durable in the log, in leaf order: <see cref="Events"/>[i] is leaf
/// <see cref="FirstIndex"/> + i, and the tree has <see cref="Size"/> leaves after them.
/// The events are as sealed (redacted and canonical).
/// </summary>
public sealed record CommittedBatch(long FirstIndex, long Size, IReadOnlyList<PreparedEvent> Events);

/// <summary>
/// Told about every batch after it is durable (detection and forwarding hang here). Calls come in
/// commit order on one background task per subscription, never inside the append path: a slow or
/// failing observer delays neither appends nor other observers. What it misses while the process
/// is down it reads back from the store by leaf index.
/// </summary>
public interface IAuditLogObserver
{
    ValueTask OnCommittedAsync(CommittedBatch batch, CancellationToken cancellationToken);
}
