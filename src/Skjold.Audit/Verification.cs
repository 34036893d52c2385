using Skjold.Audit.Events;
using Skjold.Audit.Signing;
using Skjold.Audit.Storage;

namespace Skjold.Audit;

/// <summary>
/// Recomputes the whole log from the stored events and checks everything a query or a proof reads
/// against them: every payload against its leaf hash; every indexed column, term index entry and
/// chunk seal against the payload (naming the leaf and the column or term); the leaves'
/// continuity and nothing beyond the tree state; every stored tree node and tile; the tree at every
/// signed tree head against the signed root, every signature with the given public key (and keys
/// it rotated to in a sealed record), the chain of heads (a head deleted from the middle breaks it),
/// the sealed index chain each head signs, an unsigned tail beyond the sealing interval, a kept
/// checkpoint (rollback); and that every purged payload and every erased one is covered by a purge
/// or erasure record sealed in the log whose digest matches.
/// </summary>
public static partial class AuditVerifier
{
    private const int MaxReported = 50;
    private const int Batch = 4096;

    /// <summary>The re-derived view of one stored row (computed in parallel).</summary>
    private struct Derived
    {
        public bool HashOk;
        public AuditRecord? Fields;
        public string? ColumnMismatch;
        public SystemRecord? Record;
        public string? ParseError;
        public TermPostings.Term[]? Terms;
    }

    /// <summary>A purge, erasure or key rotation recorded by Skjold in the log itself.</summary>
    private sealed record SystemRecord(long Index, string Verb, IReadOnlyDictionary<string, string> Annotations);

    public static Task<VerificationReport> VerifyStoreAsync(IAuditVerificationSource store, TreeHeadVerifier key, IProgress<long>? progress, CancellationToken ct, VerifyOptions? options = null) =>
        new StoreRun(store, key, progress, options ?? new VerifyOptions(), ct).RunAsync();
}
