namespace Skjold.Audit.Events;

/// <summary>An event ready to seal: its canonical (redacted) bytes, leaf hash and indexed fields.</summary>
public sealed record PreparedEvent(byte[] Canonical, byte[] LeafHash, AuditRecord Fields)
{
    /// <summary>The hash of the event's indexed columns for its chunk seal, computed when the event is prepared (off the single writer).</summary>
    public byte[] ColumnHash { get; } = Storage.ChunkSeals.ColumnHash(SqlTime(Fields), Fields);

    /// <summary>The terms the event carries, for its chunk's sealed manifest.</summary>
    internal Storage.TermPostings.Term[] Terms { get; } = Storage.ChunkSeals.TermsOf(Fields);

    private static long SqlTime(AuditRecord f) => Storage.SqlAuditStore.Micros(f.Time);
}
