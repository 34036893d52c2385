namespace Skjold.Audit.Merkle;

/// <summary>
/// The right edge of an append-only tree: the roots of its perfect subtrees, largest first (the
/// binary decomposition of its size). Appending a leaf completes subtrees, whose hashes are
/// emitted so that the store can keep every perfect-subtree node for proofs.
/// </summary>
public sealed class Frontier
{
    private readonly List<byte[]> _roots = [];

    public long Size { get; private set; }

    public static Frontier FromState(long size, IReadOnlyList<byte[]> roots)
    {
        var f = new Frontier { Size = size };
        f._roots.AddRange(roots);
        if (roots.Count != System.Numerics.BitOperations.PopCount((ulong)size))
        {
            throw new InvalidOperationException($"tree state is corrupt: size {size} needs {System.Numerics.BitOperations.PopCount((ulong)size)} subtree roots, found {roots.Count}");
        }

        return f;
    }

    public IReadOnlyList<byte[]> Roots => _roots;

    /// <summary>Appends a leaf hash; reports every new perfect-subtree node (level, index, hash), leaf included.</summary>
    public void Append(byte[] leafHash, List<(int Level, long Index, byte[] Hash)> newNodes)
    {
        var index = Size;
        newNodes.Add((0, index, leafHash));
        var hash = leafHash;
        var level = 0;
        var position = index;
        while ((position & 1) == 1)
        {
            var left = _roots[^1];
            _roots.RemoveAt(_roots.Count - 1);
            hash = MerkleHash.Node(left, hash);
            level++;
            position >>= 1;
            newNodes.Add((level, position, hash));
        }

        _roots.Add(hash);
        Size++;
    }

    /// <summary>MTH of the whole tree from the frontier alone.</summary>
    public byte[] Root()
    {
        if (_roots.Count == 0)
        {
            return MerkleHash.Empty;
        }

        var hash = _roots[^1];
        for (var i = _roots.Count - 2; i >= 0; i--)
        {
            hash = MerkleHash.Node(_roots[i], hash);
        }

        return hash;
    }

    public byte[] Serialize()
    {
        var bytes = new byte[_roots.Count * MerkleHash.Size];
        for (var i = 0; i < _roots.Count; i++)
        {
            _roots[i].CopyTo(bytes, i * MerkleHash.Size);
        }

        return bytes;
    }

    public static Frontier Deserialize(long size, ReadOnlySpan<byte> bytes)
    {
        var roots = new List<byte[]>();
        for (var i = 0; i + MerkleHash.Size <= bytes.Length; i += MerkleHash.Size)
        {
            roots.Add(bytes.Slice(i, MerkleHash.Size).ToArray());
        }

        return FromState(size, roots);
    }
}
