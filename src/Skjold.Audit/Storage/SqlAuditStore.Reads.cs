using System.Data;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Skjold.Audit.Signing;

namespace Skjold.Audit.Storage;

/// <summary>The read side of the store: tree nodes, leaves, rows, tree heads, tiles and index entries, for proofs and verification.</summary>
public abstract partial class SqlAuditStore
{
    public async ValueTask<IReadOnlyDictionary<(int Level, long Index), byte[]>> ReadAsync(IReadOnlyCollection<(int Level, long Index)> nodes, CancellationToken cancellationToken)
    {
        var result = new Dictionary<(int, long), byte[]>();
        var leaves = new List<long>();
        var inner = new List<(int Level, long Index)>();
        foreach (var n in nodes)
        {
            if (result.ContainsKey(n))
            {
                continue;
            }

            if (_upperNodes.TryGet(n.Level, n.Index, out var cached) || (n.Level < CachedLevel && _recentNodes is not null && _recentNodes.TryGet(n.Level, n.Index, out cached)))
            {
                result[n] = cached;
            }
            else if (n.Level == 0)
            {
                leaves.Add(n.Index);
            }
            else
            {
                inner.Add(n);
            }
        }

        if (leaves.Count == 0 && inner.Count == 0)
        {
            return result;
        }

        await ReadNodesAsync(leaves.Distinct().ToList(), inner.Distinct().ToList(), result, cancellationToken).ConfigureAwait(false);
        foreach (var n in inner)
        {
            if (result.TryGetValue(n, out var hash))
            {
                _upperNodes.Set(n.Level, n.Index, hash);
            }
        }

        return result;
    }

    /// <summary>Reads leaf hashes (level 0, from events) and interior node hashes into <paramref name="into"/>.</summary>
    protected virtual async Task ReadNodesAsync(List<long> leaves, List<(int Level, long Index)> inner, Dictionary<(int, long), byte[]> into, CancellationToken ct)
    {
        var c = await ConnectAsync(ct).ConfigureAwait(false);
        try
        {
            await ReadNodesAsync(c, leaves, inner, into, ct).ConfigureAwait(false);
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }

    private static async Task ReadNodesAsync(DbConnection c, List<long> leaves, List<(int Level, long Index)> inner, Dictionary<(int, long), byte[]> into, CancellationToken ct)
    {
        if (leaves.Count > 0)
        {
            await using var cmd = Command(c, null, $"SELECT idx, leaf_hash FROM events WHERE idx IN ({string.Join(",", leaves)})");
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                into[(0, r.GetInt64(0))] = (byte[])r.GetValue(1);
            }
        }

        if (inner.Count > 0)
        {
            var values = string.Join(",", inner.Select(n => $"({n.Level},{n.Index})"));
            await using var cmd = Command(c, null, $"SELECT lvl, idx, hash FROM nodes WHERE (lvl, idx) IN (VALUES {values})");
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                into[(r.GetInt32(0), r.GetInt64(1))] = (byte[])r.GetValue(2);
            }
        }
    }

    public async Task<IReadOnlyList<SignedTreeHead>> TreeHeadsAsync(CancellationToken cancellationToken)
    {
        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var list = new List<SignedTreeHead>();
            await using var cmd = Command(c, null, "SELECT size, ts, root, signature, key_id, ext FROM tree_heads ORDER BY size");
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                list.Add(new SignedTreeHead(r.GetInt64(0), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)), (byte[])r.GetValue(2), (byte[])r.GetValue(3), r.GetString(4))
                {
                    Extension = r.IsDBNull(5) ? null : (byte[])r.GetValue(5),
                });
            }

            return list;
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }

    public async IAsyncEnumerable<StoredLeaf> ReadLeavesAsync(long from, long to, bool payloads, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var cmd = Command(c, null,
                $"SELECT idx, leaf_hash{(payloads ? ", payload" : string.Empty)} FROM events WHERE idx >= @from AND idx < @to ORDER BY idx",
                ("from", from), ("to", to));
            await using var r = await cmd.ExecuteReaderAsync(CommandBehavior.SequentialAccess, cancellationToken).ConfigureAwait(false);
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var idx = r.GetInt64(0);
                var hash = (byte[])r.GetValue(1);
                byte[]? payload = payloads && !r.IsDBNull(2) ? (byte[])r.GetValue(2) : null;
                yield return new StoredLeaf(idx, hash, payload);
            }
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }

    public virtual int LowestStoredNodeLevel => 1;

    public virtual string IndexedTermKinds => HasGroupIndex ? "g" : string.Empty;

    public async IAsyncEnumerable<(int Level, long Index, byte[] Hash)> ReadStoredNodesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var cmd = Command(c, null, "SELECT lvl, idx, hash FROM nodes ORDER BY ((idx + 1) << lvl), lvl");
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return (r.GetInt32(0), r.GetInt64(1), (byte[])r.GetValue(2));
            }
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }

    public virtual async IAsyncEnumerable<(long Tile, byte[] Hashes)> ReadTilesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.CompletedTask.ConfigureAwait(false);
        yield break;
    }

    public virtual Task<Dictionary<string, byte[]>?> PostingsOfChunkAsync(long from, long to, CancellationToken cancellationToken) =>
        Task.FromResult<Dictionary<string, byte[]>?>(null);

    public virtual byte[] EncodePostings(List<int> offsets) => throw new NotSupportedException("this store keeps no postings");

    public virtual async Task<Dictionary<string, List<long>>?> IndexEntriesAsync(long from, long to, CancellationToken cancellationToken)
    {
        if (!HasGroupIndex)
        {
            return null;
        }

        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var result = new Dictionary<string, List<long>>(StringComparer.Ordinal);
            await using var cmd = Command(c, null, "SELECT grp, idx FROM group_index WHERE idx >= @a AND idx < @b ORDER BY grp, idx", ("a", from), ("b", to));
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var term = "g:" + r.GetString(0);
                if (!result.TryGetValue(term, out var list))
                {
                    result[term] = list = [];
                }

                list.Add(r.GetInt64(1));
            }

            return result;
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }

    /// <summary>Rows [from, to) in index order with every column, the leaf hash and the payload: what verification re-derives.</summary>
    public virtual async IAsyncEnumerable<StoredRow> ReadRowsAsync(long from, long to, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var cmd = Command(c, null, $"SELECT {SelectList(true)} FROM events e WHERE e.idx >= @from AND e.idx < @to ORDER BY e.idx", ("from", from), ("to", to));
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return new StoredRow(ReadRecord(r), (byte[])r.GetValue(15), r.IsDBNull(18) ? null : (byte[])r.GetValue(18));
            }
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }
}
