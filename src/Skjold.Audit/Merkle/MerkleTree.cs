namespace Skjold.Audit.Merkle;

/// <summary>
/// RFC 6962 / RFC 9162 Merkle tree algorithms over stored perfect-subtree hashes: the tree hash of
/// any size, inclusion (audit) paths and consistency proofs, and their verification. Any range the
/// algorithms need decomposes into O(log n) perfect subtrees, which are read in one batch.
/// </summary>
public static class MerkleTree
{
    /// <summary>The perfect subtrees whose hashes give MTH of leaves [start, end).</summary>
    public static void RangeNodes(long start, long end, List<(int Level, long Index)> into)
    {
        var n = end - start;
        if (n <= 0)
        {
            return;
        }

        if ((n & (n - 1)) == 0 && start % n == 0)
        {
            var level = System.Numerics.BitOperations.Log2((ulong)n);
            into.Add((level, start >> level));
            return;
        }

        var k = MerkleHash.SplitPoint(n);
        RangeNodes(start, start + k, into);
        RangeNodes(start + k, end, into);
    }

    /// <summary>MTH of leaves [start, end) from the given perfect-subtree hashes.</summary>
    public static byte[] RangeHash(long start, long end, IReadOnlyDictionary<(int Level, long Index), byte[]> nodes)
    {
        var n = end - start;
        if (n == 0)
        {
            return MerkleHash.Empty;
        }

        if ((n & (n - 1)) == 0 && start % n == 0)
        {
            var level = System.Numerics.BitOperations.Log2((ulong)n);
            return nodes.TryGetValue((level, start >> level), out var h)
                ? h
                : throw new InvalidOperationException($"missing tree node at level {level} index {start >> level}");
        }

        var k = MerkleHash.SplitPoint(n);
        return MerkleHash.Node(RangeHash(start, start + k, nodes), RangeHash(start + k, end, nodes));
    }

    public static async ValueTask<byte[]> RootAsync(long size, INodeReader reader, CancellationToken ct)
    {
        var needed = new List<(int, long)>();
        RangeNodes(0, size, needed);
        var nodes = await reader.ReadAsync(needed, ct).ConfigureAwait(false);
        return RangeHash(0, size, nodes);
    }

    /// <summary>The inclusion proof (audit path, leaf to root order) for leaf <paramref name="index"/> in a tree of <paramref name="size"/>.</summary>
    public static async ValueTask<IReadOnlyList<byte[]>> InclusionProofAsync(long index, long size, INodeReader reader, CancellationToken ct) =>
        (await InclusionProofsAsync([index], size, reader, ct).ConfigureAwait(false))[0];

    /// <summary>
    /// Inclusion proofs for many leaves of one tree, with every stored hash they need read in one
    /// batch (an export of a thousand events is one store read, not a thousand).
    /// </summary>
    public static async ValueTask<IReadOnlyList<IReadOnlyList<byte[]>>> InclusionProofsAsync(IReadOnlyList<long> indices, long size, INodeReader reader, CancellationToken ct)
    {
        var ranges = new List<(long Start, long End)>[indices.Count];
        var needed = new List<(int, long)>();
        for (var i = 0; i < indices.Count; i++)
        {
            ranges[i] = ProofRanges(indices[i], size);
            foreach (var (s, e) in ranges[i])
            {
                RangeNodes(s, e, needed);
            }
        }

        var nodes = await reader.ReadAsync(needed, ct).ConfigureAwait(false);
        var proofs = new IReadOnlyList<byte[]>[indices.Count];
        for (var i = 0; i < indices.Count; i++)
        {
            var r = ranges[i];
            var path = new byte[r.Count][];
            for (var j = 0; j < r.Count; j++)
            {
                path[r.Count - 1 - j] = RangeHash(r[j].Start, r[j].End, nodes);
            }

            proofs[i] = path;
        }

        return proofs;
    }

    // The sibling ranges of a leaf's audit path, from the root down.
    private static List<(long Start, long End)> ProofRanges(long index, long size)
    {
        if (index < 0 || index >= size)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"leaf {index} is not in a tree of size {size}");
        }

        var ranges = new List<(long Start, long End)>();
        long start = 0, end = size;
        while (end - start > 1)
        {
            var k = MerkleHash.SplitPoint(end - start);
            if (index < start + k)
            {
                ranges.Add((start + k, end));
                end = start + k;
            }
            else
            {
                ranges.Add((start, start + k));
                start += k;
            }
        }

        return ranges;
    }

    /// <summary>RFC 9162 2.1.3.2: checks that <paramref name="leafHash"/> is leaf <paramref name="index"/> of a tree with <paramref name="root"/>.</summary>
    public static bool VerifyInclusion(long index, long size, ReadOnlySpan<byte> leafHash, IReadOnlyList<byte[]> path, ReadOnlySpan<byte> root)
    {
        if (index < 0 || index >= size)
        {
            return false;
        }

        long fn = index, sn = size - 1;
        var r = leafHash.ToArray();
        foreach (var p in path)
        {
            if (sn == 0)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                r = MerkleHash.Node(p, r);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                r = MerkleHash.Node(r, p);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && r.AsSpan().SequenceEqual(root);
    }

    /// <summary>RFC 6962 2.1.2 consistency proof between tree sizes <paramref name="oldSize"/> and <paramref name="newSize"/>.</summary>
    public static async ValueTask<IReadOnlyList<byte[]>> ConsistencyProofAsync(long oldSize, long newSize, INodeReader reader, CancellationToken ct)
    {
        if (oldSize <= 0 || oldSize > newSize)
        {
            throw new ArgumentOutOfRangeException(nameof(oldSize), $"no consistency proof from size {oldSize} to {newSize}");
        }

        var ranges = new List<(long, long)>();
        SubProof(oldSize, 0, newSize, true, ranges);
        var needed = new List<(int, long)>();
        foreach (var (s, e) in ranges)
        {
            RangeNodes(s, e, needed);
        }

        var nodes = await reader.ReadAsync(needed, ct).ConfigureAwait(false);
        return [.. ranges.Select(r => RangeHash(r.Item1, r.Item2, nodes))];
    }

    // SUBPROOF(m, D[start:end], b) of RFC 6962, recording ranges instead of hashes.
    private static void SubProof(long m, long start, long end, bool b, List<(long, long)> into)
    {
        var n = end - start;
        if (m == n)
        {
            if (!b)
            {
                into.Add((start, end));
            }

            return;
        }

        var k = MerkleHash.SplitPoint(n);
        if (m <= k)
        {
            SubProof(m, start, start + k, b, into);
            into.Add((start + k, end));
        }
        else
        {
            SubProof(m - k, start + k, end, false, into);
            into.Add((start, start + k));
        }
    }

    /// <summary>RFC 9162 2.1.4.2: checks that the tree with <paramref name="oldRoot"/> is a prefix of the tree with <paramref name="newRoot"/>.</summary>
    public static bool VerifyConsistency(long oldSize, long newSize, ReadOnlySpan<byte> oldRoot, ReadOnlySpan<byte> newRoot, IReadOnlyList<byte[]> proof)
    {
        if (oldSize <= 0 || oldSize > newSize)
        {
            return false;
        }

        if (oldSize == newSize)
        {
            return proof.Count == 0 && oldRoot.SequenceEqual(newRoot);
        }

        var path = proof.ToList();
        if ((oldSize & (oldSize - 1)) == 0)
        {
            path.Insert(0, oldRoot.ToArray());
        }

        if (path.Count == 0)
        {
            return false;
        }

        long fn = oldSize - 1, sn = newSize - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }

        var fr = path[0];
        var sr = path[0];
        for (var i = 1; i < path.Count; i++)
        {
            var c = path[i];
            if (sn == 0)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                fr = MerkleHash.Node(c, fr);
                sr = MerkleHash.Node(c, sr);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                sr = MerkleHash.Node(sr, c);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return fr.AsSpan().SequenceEqual(oldRoot) && sr.AsSpan().SequenceEqual(newRoot) && sn == 0;
    }
}
