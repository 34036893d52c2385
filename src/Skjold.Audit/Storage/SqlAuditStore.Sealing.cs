using System.Data.Common;
using Skjold.Audit.Events;
using Skjold.Audit.Signing;

namespace Skjold.Audit.Storage;

/// <summary>Sealing: each chunk's columns and terms sealed as the events are appended, the chain of chunk seals, and the index state a tree head signs.</summary>
public abstract partial class SqlAuditStore
{
    /// <summary>
    /// The open chunk's seal for an append at <paramref name="first"/>: the writer's own, or rebuilt
    /// from the chunk's rows after a restart or another process's appends (sealing any completed
    /// chunk that has none yet).
    /// </summary>
    private async Task<(ChunkSeals.Sealer Sealer, List<ChunkSeals.Seal> Seals)> OpenSealerAsync(DbConnection c, DbTransaction tx, long first, CancellationToken ct)
    {
        var bits = SealBits;
        ChunkSeals.Sealer? sealer;
        lock (_sealLock)
        {
            sealer = _sealer;
            _sealer = null;
        }

        var seals = new List<ChunkSeals.Seal>();
        if (sealer is null || sealer.Next != first)
        {
            sealer?.Dispose();
            seals.AddRange(await SealCompletedChunksAsync(c, tx, first, int.MaxValue, ct).ConfigureAwait(false));
            var chunk = first >> bits;
            var previous = seals.Count > 0 ? seals[^1].Chain : await ChainBeforeAsync(c, tx, chunk, ct).ConfigureAwait(false);
            sealer = new ChunkSeals.Sealer(bits, chunk, previous);
            foreach (var (record, _) in await ReadRecordsAsync(c, tx, $"SELECT {SelectList(false)} FROM events e WHERE e.idx >= @a AND e.idx < @b ORDER BY e.idx",
                         [("a", chunk << bits), ("b", first)], false, ct).ConfigureAwait(false))
            {
                sealer.Add(record.Index, Micros(record.Time), record);
            }

            if (sealer.Next != first)
            {
                throw new AuditStoreTamperedException(sealer.Next, $"leaf {sealer.Next} is missing from the store below its tree state ({first}); nothing more is appended until the store is restored (run 'skjold audit verify')");
            }
        }

        return (sealer, seals);
    }

    /// <summary>Adds the events to the open chunk's seal, collecting the seals of the chunks they complete, and keeps the open seal for the next append.</summary>
    private void SealEvents(ChunkSeals.Sealer sealer, long first, IReadOnlyList<PreparedEvent> events, List<ChunkSeals.Seal> seals)
    {
        var bits = SealBits;
        var index = first;
        foreach (var e in events)
        {
            sealer.Add(index++, Micros(e.Fields.Time), e.Fields);
            if (sealer.Complete)
            {
                var seal = sealer.Finish();
                seals.Add(seal);
                sealer.Dispose();
                sealer = new ChunkSeals.Sealer(bits, seal.Chunk + 1, seal.Chain);
            }
        }

        lock (_sealLock)
        {
            _sealer = sealer;
        }
    }

    /// <summary>The chain value before <paramref name="chunk"/>: that of the seal of chunk - 1 (zeros before the first).</summary>
    private async Task<byte[]> ChainBeforeAsync(DbConnection c, DbTransaction? tx, long chunk, CancellationToken ct)
    {
        if (chunk == 0)
        {
            return new byte[32];
        }

        await using var cmd = Command(c, tx, "SELECT chain FROM chunk_seals WHERE chunk = @c", ("c", chunk - 1));
        return await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) is byte[] chain
            ? chain
            : throw new AuditStoreTamperedException(chunk << SealBits, $"the seal of chunk {chunk - 1} is missing from the store; nothing more is appended until the store is restored (run 'skjold audit verify')");
    }

    /// <summary>Seals completed chunks below <paramref name="size"/> that have no seal yet (stores written before seals), from their rows.</summary>
    private async Task<List<ChunkSeals.Seal>> SealCompletedChunksAsync(DbConnection c, DbTransaction tx, long size, int maxChunks, CancellationToken ct)
    {
        var bits = SealBits;
        long next;
        await using (var cmd = Command(c, tx, "SELECT coalesce(max(chunk) + 1, 0) FROM chunk_seals"))
        {
            next = Convert.ToInt64(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        }

        var seals = new List<ChunkSeals.Seal>();
        var previous = await ChainBeforeAsync(c, tx, next, ct).ConfigureAwait(false);
        for (var n = 0; n < maxChunks && (next + 1) << bits <= size; n++, next++)
        {
            using var sealer = new ChunkSeals.Sealer(bits, next, previous);
            foreach (var (record, _) in await ReadRecordsAsync(c, tx, $"SELECT {SelectList(false)} FROM events e WHERE e.idx >= @a AND e.idx < @b ORDER BY e.idx",
                         [("a", next << bits), ("b", (next + 1) << bits)], false, ct).ConfigureAwait(false))
            {
                sealer.Add(record.Index, Micros(record.Time), record);
            }

            var seal = sealer.Finish();
            seals.Add(seal);
            previous = seal.Chain;
        }

        return seals;
    }

    private static async Task InsertSealsAsync(DbConnection c, DbTransaction tx, List<ChunkSeals.Seal> seals, CancellationToken ct)
    {
        foreach (var s in seals)
        {
            await ExecAsync(c, tx, "INSERT INTO chunk_seals(chunk, min_ts, max_ts, columns, manifest, digest, chain) VALUES (@c, @min, @max, @col, @man, @d, @ch)", ct,
                ("c", s.Chunk), ("min", s.MinTs), ("max", s.MaxTs), ("col", s.Columns), ("man", s.Manifest), ("d", s.Digest), ("ch", s.Chain)).ConfigureAwait(false);
        }
    }

    /// <summary>Seals the completed chunks of a store written before chunk seals (64 chunks per transaction).</summary>
    protected async Task SealExistingChunksAsync(CancellationToken ct)
    {
        while (true)
        {
            var c = await ConnectAsync(ct).ConfigureAwait(false);
            try
            {
                await using var tx = await BeginAppendAsync(c, ct).ConfigureAwait(false);
                var frontier = await ReadFrontierAsync(c, tx, ct).ConfigureAwait(false);
                var seals = await SealCompletedChunksAsync(c, tx, frontier.Size, 64, ct).ConfigureAwait(false);
                await InsertSealsAsync(c, tx, seals, ct).ConfigureAwait(false);
                await tx.CommitAsync(ct).ConfigureAwait(false);
                if (seals.Count < 64)
                {
                    return;
                }
            }
            finally
            {
                await ReleaseAsync(c).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The sealed query index at <paramref name="size"/> leaves: the chain value of its last
    /// completed chunk, and a seal of the leaves after it up to <paramref name="size"/> (made from
    /// their rows and kept under that size, so that a head can sign it and queries confirm the open
    /// chunk too).
    /// </summary>
    public async Task<IndexState> IndexStateAsync(long size, CancellationToken cancellationToken)
    {
        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await IndexStateAsync(c, null, size, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Signs a head for the store's current size in one transaction under the sequencing lock that
    /// appends take: the state, the previous head and the index are read, and the head written,
    /// with no other writer in between, so heads of several replicas chain in order. Returns the
    /// existing head when the size is signed already, null for an empty log.
    /// </summary>
    public async Task<SignedTreeHead?> SignTreeHeadAsync(Func<long, byte[], SignedTreeHead?, IndexState, SignedTreeHead> sign, CancellationToken cancellationToken)
    {
        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var tx = await BeginAppendAsync(c, cancellationToken).ConfigureAwait(false);
            var frontier = await ReadFrontierAsync(c, tx, cancellationToken).ConfigureAwait(false);
            if (frontier.Size == 0)
            {
                await tx.RollbackAsync(cancellationToken).ConfigureAwait(false);
                return null;
            }

            SignedTreeHead? last = null;
            await using (var cmd = Command(c, tx, "SELECT size, ts, root, signature, key_id, ext FROM tree_heads ORDER BY size DESC LIMIT 1"))
            await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                if (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    last = new SignedTreeHead(r.GetInt64(0), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)), (byte[])r.GetValue(2), (byte[])r.GetValue(3), r.GetString(4))
                    {
                        Extension = r.IsDBNull(5) ? null : (byte[])r.GetValue(5),
                    };
                }
            }

            if (last is not null && last.Size >= frontier.Size)
            {
                await tx.RollbackAsync(cancellationToken).ConfigureAwait(false);
                return last.Size == frontier.Size
                    ? last
                    : throw new AuditStoreTamperedException(frontier.Size, $"the store holds {frontier.Size} events but a tree head signs {last.Size}: events were deleted; nothing more is signed (run 'skjold audit verify')");
            }

            var index = await IndexStateAsync(c, tx, frontier.Size, cancellationToken).ConfigureAwait(false);
            var sth = sign(frontier.Size, frontier.Root(), last, index);
            await ExecAsync(c, tx,
                "INSERT INTO tree_heads(size, ts, root, signature, key_id, ext) VALUES (@s, @t, @r, @sig, @k, @e)",
                cancellationToken, ("s", sth.Size), ("t", sth.Timestamp.ToUnixTimeMilliseconds()), ("r", sth.Root), ("sig", sth.Signature), ("k", sth.KeyId),
                ("e", (object?)sth.Extension ?? DBNull.Value)).ConfigureAwait(false);
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return sth;
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }

    private async Task<IndexState> IndexStateAsync(DbConnection c, DbTransaction? tx, long size, CancellationToken cancellationToken)
    {
        var bits = SealBits;
        var chunks = size >> bits;
        {
            var chain = await ChainBeforeAsync(c, tx, chunks, cancellationToken).ConfigureAwait(false);
            var partial = new byte[32];
            if ((size & ((1L << bits) - 1)) != 0)
            {
                // The writer's own open seal when it is at this size (no rows to read); else from the rows.
                ChunkSeals.Seal? current = null;
                lock (_sealLock)
                {
                    if (_sealer is { } open && open.Next == size && open.Chunk == chunks)
                    {
                        current = open.Snapshot();
                    }
                }

                if (current is not null)
                {
                    await StorePartialAsync(c, tx, size, current, cancellationToken).ConfigureAwait(false);
                    return new IndexState(bits, chunks, chain) { Partial = current.Digest };
                }

                using var sealer = new ChunkSeals.Sealer(bits, chunks, chain);
                foreach (var (record, _) in await ReadRecordsAsync(c, tx, $"SELECT {SelectList(false)} FROM events e WHERE e.idx >= @a AND e.idx < @b ORDER BY e.idx",
                             [("a", chunks << bits), ("b", size)], false, cancellationToken).ConfigureAwait(false))
                {
                    sealer.Add(record.Index, Micros(record.Time), record);
                }

                if (sealer.Next != size)
                {
                    throw new AuditStoreTamperedException(sealer.Next, $"leaf {sealer.Next} is missing from the store below its tree state ({size}); nothing more is signed (run 'skjold audit verify')");
                }

                var seal = sealer.Finish();
                partial = seal.Digest;
                await StorePartialAsync(c, tx, size, seal, cancellationToken).ConfigureAwait(false);
            }

            return new IndexState(bits, chunks, chain) { Partial = partial };
        }
    }

    private static Task StorePartialAsync(DbConnection c, DbTransaction? tx, long size, ChunkSeals.Seal seal, CancellationToken ct) =>
        ExecAsync(c, tx, "INSERT INTO partial_seals(size, chunk, min_ts, max_ts, columns, manifest, digest) VALUES (@s, @c, @min, @max, @col, @man, @d) ON CONFLICT(size) DO NOTHING",
            ct, ("s", size), ("c", seal.Chunk), ("min", seal.MinTs), ("max", seal.MaxTs), ("col", seal.Columns), ("man", seal.Manifest), ("d", seal.Digest));

    /// <summary>The seal of the open chunk's leaves up to <paramref name="size"/>, as kept when a head of that size was signed.</summary>
    public async Task<ChunkSeals.Seal?> PartialSealAsync(long size, CancellationToken cancellationToken)
    {
        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var cmd = Command(c, null, "SELECT chunk, min_ts, max_ts, columns, manifest, digest FROM partial_seals WHERE size = @s", ("s", size));
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await r.ReadAsync(cancellationToken).ConfigureAwait(false)
                ? new ChunkSeals.Seal(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), (byte[])r.GetValue(3), (byte[])r.GetValue(4), (byte[])r.GetValue(5), [])
                : null;
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }

    /// <summary>Chunk, time range, digest and chain of the seals [from, to), without manifests (to check the chain cheaply).</summary>
    public async Task<List<(long Chunk, long MinTs, long MaxTs, byte[] Digest, byte[] Chain)>> SealChainAsync(long from, long to, CancellationToken cancellationToken)
    {
        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var list = new List<(long, long, long, byte[], byte[])>();
            await using var cmd = Command(c, null, "SELECT chunk, min_ts, max_ts, digest, chain FROM chunk_seals WHERE chunk >= @a AND chunk < @b ORDER BY chunk", ("a", from), ("b", to));
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                list.Add((r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), (byte[])r.GetValue(3), (byte[])r.GetValue(4)));
            }

            return list;
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }

    /// <summary>The seals of chunks [from, to), in order.</summary>
    public async Task<List<ChunkSeals.Seal>> SealsAsync(long from, long to, CancellationToken cancellationToken)
    {
        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var list = new List<ChunkSeals.Seal>();
            await using var cmd = Command(c, null, "SELECT chunk, min_ts, max_ts, columns, manifest, digest, chain FROM chunk_seals WHERE chunk >= @a AND chunk < @b ORDER BY chunk", ("a", from), ("b", to));
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                list.Add(new ChunkSeals.Seal(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), (byte[])r.GetValue(3), (byte[])r.GetValue(4), (byte[])r.GetValue(5), (byte[])r.GetValue(6)));
            }

            return list;
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }
}
