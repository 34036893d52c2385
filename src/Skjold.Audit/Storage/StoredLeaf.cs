namespace Skjold.Audit.Storage;

/// <summary>One leaf as stored: its index, leaf hash and canonical payload (null once purged).</summary>
public readonly record struct StoredLeaf(long Index, byte[] LeafHash, byte[]? Payload);
