using System.Data.Common;
using Skjold.Audit.Merkle;

namespace Skjold.Audit.Storage;

/// <summary>Checks that the stored rows agree with the tree state before a writer appends, and the state itself.</summary>
public abstract partial class SqlAuditStore
{
    /// <summary>
    /// Cheap checks that the rows agree with the tree state, made before a writer starts: no row at
    /// or beyond its size, the last row present, and the smallest subtree of the right edge
    /// recomputed from its leaves. Throws <see cref="AuditStoreTamperedException"/> naming the index.
    /// </summary>
    public async Task CheckStateAsync(CancellationToken cancellationToken)
    {
        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Frontier frontier;
            await using (var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
            {
                frontier = await ReadFrontierAsync(c, tx, cancellationToken).ConfigureAwait(false);
                await RefuseRowsBeyondAsync(c, tx, frontier.Size, cancellationToken).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            }

            var size = frontier.Size;
            if (size == 0)
            {
                return;
            }

            var span = size & -size; // the last perfect subtree of the right edge
            if (span > 4096)
            {
                span = 1;
            }

            var hashes = new List<byte[]>();
            await using (var cmd = Command(c, null, "SELECT idx, leaf_hash FROM events WHERE idx >= @a AND idx < @b ORDER BY idx", ("a", size - span), ("b", size)))
            await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                var expected = size - span;
                while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (r.GetInt64(0) != expected)
                    {
                        throw new AuditStoreTamperedException(expected, $"leaf {expected} is missing from the store below its tree state ({size}); nothing more is appended until the store is restored (run 'skjold audit verify')");
                    }

                    hashes.Add((byte[])r.GetValue(1));
                    expected++;
                }

                if (expected != size)
                {
                    throw new AuditStoreTamperedException(expected, $"leaf {expected} is missing from the store below its tree state ({size}); nothing more is appended until the store is restored (run 'skjold audit verify')");
                }
            }

            while (hashes.Count > 1)
            {
                hashes = [.. Enumerable.Range(0, hashes.Count / 2).Select(i => MerkleHash.Node(hashes[2 * i], hashes[(2 * i) + 1]))];
            }

            if (span <= 4096 && (size & -size) == span && !hashes[0].AsSpan().SequenceEqual(frontier.Roots[^1]))
            {
                throw new AuditStoreTamperedException(size - span, $"the leaves from {size - span} to {size - 1} do not match the stored tree state: rows were changed outside Skjold; nothing more is appended until the store is restored (run 'skjold audit verify')");
            }
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }

    /// <param name="refuseRowsBeyond">Also look, in the same statement, for rows at or beyond the state's size (rows a sequencer did not append) and refuse them.</param>
    private static async Task<Frontier> ReadFrontierAsync(DbConnection c, DbTransaction tx, CancellationToken ct, bool refuseRowsBeyond = false)
    {
        await using var cmd = Command(c, tx, refuseRowsBeyond
            ? "SELECT size, frontier, (SELECT min(idx) FROM events WHERE idx >= tree_state.size) FROM tree_state WHERE id = 0"
            : "SELECT size, frontier FROM tree_state WHERE id = 0");
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await r.ReadAsync(ct).ConfigureAwait(false))
        {
            throw new InvalidOperationException("audit store has no tree state; run 'skjold audit init'");
        }

        var size = r.GetInt64(0);
        if (refuseRowsBeyond && !r.IsDBNull(2))
        {
            var beyond = r.GetInt64(2);
            throw new AuditStoreTamperedException(beyond,
                $"leaf {beyond} is in the store although the tree state ends at {size}: rows were added outside Skjold; nothing more is appended until the store is restored (run 'skjold audit verify')");
        }

        return Frontier.Deserialize(size, (byte[])r.GetValue(1));
    }

    public async Task<(long Size, byte[] Root)> StateAsync(CancellationToken cancellationToken)
    {
        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var cmd = Command(c, null, "SELECT size, frontier FROM tree_state WHERE id = 0");
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new InvalidOperationException("audit store has no tree state; run 'skjold audit init'");
            }

            var f = Frontier.Deserialize(r.GetInt64(0), (byte[])r.GetValue(1));
            return (f.Size, f.Root());
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }
}
