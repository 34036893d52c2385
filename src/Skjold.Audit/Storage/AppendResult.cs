namespace Skjold.Audit.Storage;

/// <summary>Where a batch landed: its first leaf index, and the tree size and root after it.</summary>
public sealed record AppendResult(long FirstIndex, long Size, byte[] Root);
