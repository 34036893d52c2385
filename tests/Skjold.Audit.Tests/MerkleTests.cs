using Skjold.Audit.Merkle;

namespace Skjold.Audit.Tests;

public sealed class MerkleTests
{
    /// <summary>The eight leaves of the Certificate Transparency reference tests.</summary>
    private static readonly byte[][] CtLeaves =
    [
        [], [0x00], [0x10], [0x20, 0x21], [0x30, 0x31], [0x40, 0x41, 0x42, 0x43],
        [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
        [0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f],
    ];

    private static readonly string[] CtRoots =
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    /// <summary>Keeps every node the frontier emits, as the stores do.</summary>
    private sealed class MemoryNodes : INodeReader
    {
        public Dictionary<(int, long), byte[]> Nodes { get; } = [];

        public ValueTask<IReadOnlyDictionary<(int Level, long Index), byte[]>> ReadAsync(IReadOnlyCollection<(int Level, long Index)> nodes, CancellationToken cancellationToken) =>
            ValueTask.FromResult<IReadOnlyDictionary<(int, long), byte[]>>(nodes.Distinct().ToDictionary(n => n, n => Nodes[n]));
    }

    private static (Frontier Frontier, MemoryNodes Nodes, List<byte[]> Roots) Build(IReadOnlyList<byte[]> leaves)
    {
        var f = new Frontier();
        var store = new MemoryNodes();
        var roots = new List<byte[]>();
        var emitted = new List<(int, long, byte[])>();
        foreach (var leaf in leaves)
        {
            emitted.Clear();
            f.Append(MerkleHash.Leaf(leaf), emitted);
            foreach (var (l, i, h) in emitted)
            {
                store.Nodes[(l, i)] = h;
            }

            roots.Add(f.Root());
        }

        return (f, store, roots);
    }

    [Fact]
    public async Task Roots_MatchCertificateTransparencyVectors()
    {
        var (_, nodes, roots) = Build(CtLeaves);
        for (var n = 1; n <= 8; n++)
        {
            Assert.Equal(CtRoots[n - 1], Convert.ToHexStringLower(roots[n - 1]));
            Assert.Equal(CtRoots[n - 1], Convert.ToHexStringLower(await MerkleTree.RootAsync(n, nodes, default)));
        }

        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Convert.ToHexStringLower(new Frontier().Root()));
    }

    [Fact]
    public async Task InclusionProofs_VerifyForEveryLeafAndSize_AndFailWhenTampered()
    {
        var leaves = Enumerable.Range(0, 70).Select(i => BitConverter.GetBytes(i)).ToList();
        var (_, nodes, roots) = Build(leaves);
        for (var size = 1; size <= leaves.Count; size++)
        {
            for (var index = 0; index < size; index++)
            {
                var proof = await MerkleTree.InclusionProofAsync(index, size, nodes, default);
                var leaf = MerkleHash.Leaf(leaves[index]);
                Assert.True(MerkleTree.VerifyInclusion(index, size, leaf, proof, roots[size - 1]), $"leaf {index} size {size}");
                Assert.False(MerkleTree.VerifyInclusion(index, size, MerkleHash.Leaf([9, 9, 9]), proof, roots[size - 1]));
                if (proof.Count > 0)
                {
                    var bad = proof.Select(p => (byte[])p.Clone()).ToList();
                    bad[^1][0] ^= 1;
                    Assert.False(MerkleTree.VerifyInclusion(index, size, leaf, bad, roots[size - 1]));
                }

                if (size > 1)
                {
                    Assert.False(MerkleTree.VerifyInclusion((index + 1) % size, size, leaf, proof, roots[size - 1]));
                }
            }
        }
    }

    [Fact]
    public async Task ConsistencyProofs_VerifyForEveryPair_AndFailForAForkedTree()
    {
        var leaves = Enumerable.Range(0, 40).Select(i => BitConverter.GetBytes(i * 7)).ToList();
        var (_, nodes, roots) = Build(leaves);
        var forked = leaves.ToList();
        forked[3] = [1, 2, 3];
        var (_, _, forkRoots) = Build(forked);
        for (var n = 1; n <= leaves.Count; n++)
        {
            for (var m = 1; m <= n; m++)
            {
                var proof = await MerkleTree.ConsistencyProofAsync(m, n, nodes, default);
                Assert.True(MerkleTree.VerifyConsistency(m, n, roots[m - 1], roots[n - 1], proof), $"{m} -> {n}");
                if (m > 3)
                {
                    Assert.False(MerkleTree.VerifyConsistency(m, n, forkRoots[m - 1], roots[n - 1], proof), $"fork {m} -> {n}");
                }
            }
        }
    }

    [Fact]
    public void SubtreeHashCache_KeepsLevelsFromItsMinimum_WithinItsBound()
    {
        var cache = new SubtreeHashCache(minLevel: 4, maxHashes: 2 * 4096);
        var h = System.Security.Cryptography.SHA256.HashData([1, 2, 3]);
        cache.Set(3, 5, h);
        Assert.False(cache.TryGet(3, 5, out _)); // below the minimum level: never kept
        cache.Set(4, 5, h);
        Assert.True(cache.TryGet(4, 5, out var got));
        Assert.Equal(h, got);
        Assert.False(cache.TryGet(4, 6, out _)); // same page, not set
        Assert.False(cache.TryGet(5, 5, out _));
        cache.Set(4, 4096 * 3, h); // second page: still within the bound of two pages
        Assert.True(cache.TryGet(4, 4096 * 3, out _));
        cache.Set(9, 0, h); // a third page would exceed it
        Assert.False(cache.TryGet(9, 0, out _));
        got[0] ^= 1;
        Assert.True(cache.TryGet(4, 5, out var again));
        Assert.Equal(h, again); // callers get copies
    }

    [Fact]
    public void SubtreeHashCache_WithEviction_KeepsTheMostRecentPages()
    {
        var cache = new SubtreeHashCache(minLevel: 0, maxHashes: 2 * 4096, evict: true);
        var h = System.Security.Cryptography.SHA256.HashData([7]);
        cache.Set(0, 0, h);          // page 0 of level 0
        cache.Set(1, 10, h);         // page 0 of level 1
        cache.Set(0, 4096 * 5, h);   // a third page: the oldest (level 0, page 0) goes
        Assert.False(cache.TryGet(0, 0, out _));
        Assert.True(cache.TryGet(1, 10, out _));
        Assert.True(cache.TryGet(0, 4096 * 5, out _));
    }
}
