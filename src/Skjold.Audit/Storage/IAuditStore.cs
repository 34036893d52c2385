using Skjold.Audit.Events;
using Skjold.Audit.Merkle;
using Skjold.Audit.Signing;

namespace Skjold.Audit.Storage;

/// <summary>
/// Durable storage of the Merkle log: events with their indexed fields, perfect-subtree nodes, the
/// tree's right edge, signed tree heads, ingest offsets and legal holds. Appends are totally
/// ordered (one sequencer) and durable when the call returns. Split by role: a component takes
/// only the part it uses (<see cref="IAuditReader"/>, <see cref="IAuditWriter"/>,
/// <see cref="IAuditRetentionStore"/>, <see cref="IAuditVerificationSource"/>).
/// </summary>
public interface IAuditStore : IAuditWriter, IAuditRetentionStore, IAuditVerificationSource, IAsyncDisposable;

/// <summary>What investigators and auditors read: the tree, its leaves and heads, and queries.</summary>
public interface IAuditReader : INodeReader
{
    string Description { get; }

    Task<(long Size, byte[] Root)> StateAsync(CancellationToken cancellationToken);

    Task<IReadOnlyList<SignedTreeHead>> TreeHeadsAsync(CancellationToken cancellationToken);

    /// <summary>Leaves [from, to) in index order. A missing row is simply absent (verification notices the gap).</summary>
    IAsyncEnumerable<StoredLeaf> ReadLeavesAsync(long from, long to, bool payloads, CancellationToken cancellationToken);

    IAsyncEnumerable<(AuditRecord Record, byte[]? Payload)> QueryAsync(AuditQuery query, bool payloads, CancellationToken cancellationToken);
}

/// <summary>What the log's single writer needs: appends in one sequence, durable when the call returns, and the tree heads signed atomically with reading the previous one.</summary>
public interface IAuditWriter : IAuditReader
{
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Appends events in order; the optional file offset is saved in the same transaction.</summary>
    Task<AppendResult> AppendAsync(IReadOnlyList<PreparedEvent> events, IngestOffset? offset, CancellationToken cancellationToken);

    /// <summary>Signs a head for the current size atomically with reading the previous head (see <see cref="SqlAuditStore.SignTreeHeadAsync"/>).</summary>
    Task<SignedTreeHead?> SignTreeHeadAsync(Func<long, byte[], SignedTreeHead?, IndexState, SignedTreeHead> sign, CancellationToken cancellationToken);

    /// <summary>Quick consistency of rows and tree state before writing; throws <see cref="AuditStoreTamperedException"/>.</summary>
    Task CheckStateAsync(CancellationToken cancellationToken);

    Task<IngestOffset?> GetOffsetAsync(string path, CancellationToken cancellationToken);
}

/// <summary>Retention, erasure and legal holds: what changes payloads after sealing (each change is recorded in the log by its caller).</summary>
public interface IAuditRetentionStore
{
    /// <summary>
    /// Removes payloads and identifying fields of events older than <paramref name="before"/> that
    /// match no hold; keeps index, time, verb, object kind, result and leaf hash. Returns what was
    /// (or, with <paramref name="dryRun"/>, would be) purged, for the purge record.
    /// </summary>
    Task<RedactionOutcome> PurgeAsync(DateTimeOffset before, string? resource, IReadOnlyList<string> exceptResources, IReadOnlyList<LegalHold> holds, bool dryRun, CancellationToken cancellationToken);

    /// <summary>Rewrites the payloads of one user's events (GDPR erasure); leaf hashes stay. Returns what the erasure record seals.</summary>
    Task<RedactionOutcome> EraseAsync(string user, Func<byte[], byte[]> rewrite, bool dryRun, CancellationToken cancellationToken);

    Task<LegalHold> AddHoldAsync(LegalHold hold, CancellationToken cancellationToken);

    Task<bool> ReleaseHoldAsync(long id, CancellationToken cancellationToken);

    Task<IReadOnlyList<LegalHold>> HoldsAsync(CancellationToken cancellationToken);
}

/// <summary>What verification reads besides the leaves: chunk seals, stored rows with every column, nodes, tiles and the store's own term indexes.</summary>
public interface IAuditVerificationSource : IAuditReader
{
    /// <summary>Leaves per sealed chunk of the query index, as a power of two.</summary>
    int SealBits { get; }

    /// <summary>The sealed query index at a tree size (what a tree head of that size signs).</summary>
    Task<IndexState> IndexStateAsync(long size, CancellationToken cancellationToken);

    /// <summary>Chunk, time range, digest and chain of the seals [from, to), without manifests.</summary>
    Task<List<(long Chunk, long MinTs, long MaxTs, byte[] Digest, byte[] Chain)>> SealChainAsync(long from, long to, CancellationToken cancellationToken);

    /// <summary>The seal of the open chunk's leaves up to a signed size (null when none was kept).</summary>
    Task<ChunkSeals.Seal?> PartialSealAsync(long size, CancellationToken cancellationToken);

    /// <summary>The seals of chunks [from, to).</summary>
    Task<List<ChunkSeals.Seal>> SealsAsync(long from, long to, CancellationToken cancellationToken);

    /// <summary>Rows [from, to) with every column, leaf hash and payload.</summary>
    IAsyncEnumerable<StoredRow> ReadRowsAsync(long from, long to, CancellationToken cancellationToken);

    /// <summary>The lowest level of interior nodes kept in the nodes table (lower ones are in tiles or recomputed).</summary>
    int LowestStoredNodeLevel { get; }

    /// <summary>Stored interior nodes in the order appends complete them (by the leaf that completes them, then level).</summary>
    IAsyncEnumerable<(int Level, long Index, byte[] Hash)> ReadStoredNodesAsync(CancellationToken cancellationToken);

    /// <summary>Stored tiles of 16 leaf hashes, in order (none for stores without tiles).</summary>
    IAsyncEnumerable<(long Tile, byte[] Hashes)> ReadTilesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// What the store's own term indexes claim for leaves [from, to): term to leaves (postings of a
    /// completed chunk in the embedded store, explicit groups in PostgreSQL's group index); null when
    /// the range is not indexed that way.
    /// </summary>
    Task<Dictionary<string, List<long>>?> IndexEntriesAsync(long from, long to, CancellationToken cancellationToken);

    /// <summary>The embedded store's postings rows of a completed chunk, encoded as stored; null for stores without postings or the open chunk.</summary>
    Task<Dictionary<string, byte[]>?> PostingsOfChunkAsync(long from, long to, CancellationToken cancellationToken);

    /// <summary>Encodes chunk offsets as the store's postings do.</summary>
    byte[] EncodePostings(List<int> offsets);

    /// <summary>Which term kinds <see cref="IndexEntriesAsync"/> covers (u, n, i, R, r, a, g).</summary>
    string IndexedTermKinds { get; }
}

/// <summary>
/// One stored row: its columns (purged flag included), its leaf hash and its payload (null once
/// purged). A store may hand over the columns in their canonical byte form (as the chunk seal hashes
/// them) instead of as a record; they are then decoded only when asked for, and compared as bytes.
/// </summary>
public sealed class StoredRow
{
    private readonly byte[]? _canonical;
    private AuditRecord? _columns;

    public StoredRow(AuditRecord columns, byte[] leafHash, byte[]? payload)
    {
        _columns = columns;
        Index = columns.Index;
        Purged = columns.Purged;
        LeafHash = leafHash;
        Payload = payload;
    }

    internal StoredRow(long index, bool purged, byte[] canonicalColumns, byte[] leafHash, byte[]? payload)
    {
        _canonical = canonicalColumns;
        Index = index;
        Purged = purged;
        LeafHash = leafHash;
        Payload = payload;
    }

    public long Index { get; }

    public bool Purged { get; }

    public byte[] LeafHash { get; }

    public byte[]? Payload { get; }

    /// <summary>The stored columns as a record.</summary>
    public AuditRecord Columns => _columns ??= ChunkSeals.ReadCanonical(Index, Purged, _canonical!);

    /// <summary>True when the stored columns are, byte for byte, those of <paramref name="fields"/>; false means "compare the fields" (they may still be equal).</summary>
    internal bool SameCanonical(AuditRecord fields) => _canonical is { } c && ChunkSeals.CanonicalEquals(fields, c);
}
