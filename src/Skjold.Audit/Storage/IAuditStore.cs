using Skjold.Audit.Events;
using Skjold.Audit.Merkle;
using Skjold.Audit.Signing;

namespace Skjold.Audit.Storage;

/// <summary>
/// Durable storage of the Merkle log: events with their indexed fields, perfect-subtree nodes, the
/// tree's right edge, signed tree heads, ingest offsets and legal holds. Appends are totally
/// ordered (one sequencer) and durable when the call returns.
/// </summary>
public interface IAuditStore : INodeReader, IAsyncDisposable
{
    string Description { get; }

    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Appends events in order; the optional file offset is saved in the same transaction.</summary>
    Task<AppendResult> AppendAsync(IReadOnlyList<PreparedEvent> events, IngestOffset? offset, CancellationToken cancellationToken);

    Task<(long Size, byte[] Root)> StateAsync(CancellationToken cancellationToken);

    Task StoreTreeHeadAsync(SignedTreeHead treeHead, CancellationToken cancellationToken);

    Task<IReadOnlyList<SignedTreeHead>> TreeHeadsAsync(CancellationToken cancellationToken);

    /// <summary>Leaves [from, to) in index order. A missing row is simply absent (verification notices the gap).</summary>
    IAsyncEnumerable<StoredLeaf> ReadLeavesAsync(long from, long to, bool payloads, CancellationToken cancellationToken);

    IAsyncEnumerable<(AuditRecord Record, byte[]? Payload)> QueryAsync(AuditQuery query, bool payloads, CancellationToken cancellationToken);

    Task<IngestOffset?> GetOffsetAsync(string path, CancellationToken cancellationToken);

    /// <summary>Removes payloads and identifying fields of events older than <paramref name="before"/> that match no hold; keeps index, time and leaf hash.</summary>
    Task<long> PurgeAsync(DateTimeOffset before, string? resource, IReadOnlyList<string> exceptResources, IReadOnlyList<LegalHold> holds, CancellationToken cancellationToken);

    Task<LegalHold> AddHoldAsync(LegalHold hold, CancellationToken cancellationToken);

    Task<bool> ReleaseHoldAsync(long id, CancellationToken cancellationToken);

    Task<IReadOnlyList<LegalHold>> HoldsAsync(CancellationToken cancellationToken);
}
