namespace Skjold.Audit.Merkle;

/// <summary>
/// Reads hashes of perfect subtrees: level 0 is leaf <c>index</c>; level l covers leaves
/// [index * 2^l, (index + 1) * 2^l). Only subtrees that are complete exist.
/// </summary>
public interface INodeReader
{
    ValueTask<IReadOnlyDictionary<(int Level, long Index), byte[]>> ReadAsync(IReadOnlyCollection<(int Level, long Index)> nodes, CancellationToken cancellationToken);
}
