namespace Skjold.Audit.Storage;

/// <summary>The store's rows disagree with what was sealed: the writer refuses to go on, naming the first bad leaf.</summary>
public sealed class AuditStoreTamperedException(long leafIndex, string message) : AuditStoreException(message)
{
    public long LeafIndex { get; } = leafIndex;
}
