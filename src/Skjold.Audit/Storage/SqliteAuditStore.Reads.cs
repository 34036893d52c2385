using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using static Skjold.Audit.Storage.SqliteStatements;

namespace Skjold.Audit.Storage;

/// <summary>The read side of the SQLite store: tiles, rows for verification, a chunk's postings, and tree nodes for proofs.</summary>
public sealed partial class SqliteAuditStore
{
    public override async IAsyncEnumerable<(long Tile, byte[] Hashes)> ReadTilesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var c = new SqliteConnection(_connectionString);
        await c.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = Command(c, null, "SELECT tile, hashes FROM tiles ORDER BY tile");
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return (r.GetInt64(0), (byte[])r.GetValue(1));
        }
    }

    /// <summary>
    /// Rows for verification through SQLite's own API, a page of 4,096 per statement: every column,
    /// leaf hash and payload, with the strings that repeat from row to row (verbs, users, namespaces)
    /// made once. Reading them through ADO.NET cost three times the rest of verification.
    /// </summary>
    public override async IAsyncEnumerable<StoredRow> ReadRowsAsync(long from, long to, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var c = new SqliteConnection(_connectionString);
        await c.OpenAsync(cancellationToken).ConfigureAwait(false);
        var db = c.Handle!;

        // A full read (verification) reads pages through a memory map instead of a copy per page.
        raw.sqlite3_exec(db, "PRAGMA mmap_size = 68719476736");

        // The columns are handed over in their canonical byte form, copied straight from SQLite's
        // UTF-8 (no strings): verification compares them as bytes and decodes only a row that differs.
        var buffer = new byte[4096];
        var length = 0;
        void Reserve(int more)
        {
            if (length + more > buffer.Length)
            {
                Array.Resize(ref buffer, Math.Max(buffer.Length * 2, length + more));
            }
        }

        void Text(sqlite3_stmt st, int i)
        {
            if (raw.sqlite3_column_type(st, i) == raw.SQLITE_NULL)
            {
                Reserve(4);
                System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(buffer.AsSpan(length), -1);
                length += 4;
                return;
            }

            var bytes = raw.sqlite3_column_blob(st, i);
            Reserve(4 + bytes.Length);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(buffer.AsSpan(length), bytes.Length);
            bytes.CopyTo(buffer.AsSpan(length + 4));
            length += 4 + bytes.Length;
        }

        void Code(sqlite3_stmt st, int i)
        {
            Reserve(4 + 11);
            if (raw.sqlite3_column_type(st, i) == raw.SQLITE_NULL)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(buffer.AsSpan(length), -1);
                length += 4;
                return;
            }

            raw.sqlite3_column_int(st, i).TryFormat(buffer.AsSpan(length + 4), out var n, default, System.Globalization.CultureInfo.InvariantCulture);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(buffer.AsSpan(length), n);
            length += 4 + n;
        }

        using var st = Prepare(db, $"SELECT {Columns}, purged, payload FROM events WHERE idx >= ?1 AND idx < ?2 ORDER BY idx LIMIT 4096");
        var next = from;
        while (next < to)
        {
            cancellationToken.ThrowIfCancellationRequested();
            raw.sqlite3_reset(st);
            raw.sqlite3_bind_int64(st, 1, next);
            raw.sqlite3_bind_int64(st, 2, to);
            var page = new List<StoredRow>(4096);
            int rc;
            while ((rc = raw.sqlite3_step(st)) == raw.SQLITE_ROW)
            {
                length = 8;
                System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(buffer, raw.sqlite3_column_int64(st, 1));
                for (var i = 2; i <= 12; i++)
                {
                    Text(st, i);
                }

                Code(st, 13);
                Text(st, 14);
                Text(st, 16);
                var payload = raw.sqlite3_column_type(st, 18) == raw.SQLITE_NULL ? null : raw.sqlite3_column_blob(st, 18).ToArray();
                page.Add(new StoredRow(raw.sqlite3_column_int64(st, 0), raw.sqlite3_column_int64(st, 17) != 0, buffer.AsSpan(0, length).ToArray(),
                    raw.sqlite3_column_blob(st, 15).ToArray(), payload));
            }

            if (rc != raw.SQLITE_DONE)
            {
                throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), rc);
            }

            if (page.Count == 0)
            {
                yield break;
            }

            foreach (var row in page)
            {
                yield return row;
            }

            next = page[^1].Index + 1;
            if (page.Count < 4096)
            {
                yield break;
            }
        }
    }

    /// <summary>The postings of a completed, indexed chunk (null for the open chunk or a range that is not one chunk).</summary>
    public override async Task<Dictionary<string, List<long>>?> IndexEntriesAsync(long from, long to, CancellationToken cancellationToken)
    {
        if (await PostingsOfChunkAsync(from, to, cancellationToken).ConfigureAwait(false) is not { } raw)
        {
            return null;
        }

        var result = new Dictionary<string, List<long>>(StringComparer.Ordinal);
        foreach (var (term, data) in raw)
        {
            var list = new List<long>();
            TermPostings.Decode(data, from, ChunkSize, list);
            result[term] = list;
        }

        return result;
    }

    /// <summary>The postings rows of a completed chunk as stored (term to encoded offsets); null for the open chunk.</summary>
    public override async Task<Dictionary<string, byte[]>?> PostingsOfChunkAsync(long from, long to, CancellationToken cancellationToken)
    {
        if (from % ChunkSize != 0 || to - from != ChunkSize)
        {
            return null;
        }

        var chunk = from >> _chunkBits;
        await using var c = new SqliteConnection(_connectionString);
        await c.OpenAsync(cancellationToken).ConfigureAwait(false);
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        await using (var check = Command(c, null, "SELECT count(*) FROM chunks WHERE chunk = @c", ("c", chunk)))
        {
            if (Convert.ToInt64(await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture) == 0)
            {
                return result; // the chunk's index row is gone: every term is missing
            }
        }

        await using var cmd = Command(c, null, "SELECT term, data FROM postings WHERE chunk = @c", ("c", chunk));
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result[r.GetString(0)] = (byte[])r.GetValue(1);
        }

        return result;
    }

    /// <summary>Encodes a chunk's offsets as the postings store them (for comparing without decoding).</summary>
    public override byte[] EncodePostings(List<int> offsets) => TermPostings.Encode(offsets, ChunkSize);
    protected override Task ReadNodesAsync(List<long> leaves, List<(int Level, long Index)> inner, Dictionary<(int, long), byte[]> into, CancellationToken ct)
    {
        lock (_proofLock)
        {
            if (_proofConnection is null)
            {
                var c = new SqliteConnection(_connectionString);
                c.Open();
                using (var pragma = c.CreateCommand())
                {
                    // Tree nodes are read through memory mapping rather than a read call per page.
                    pragma.CommandText = "PRAGMA mmap_size = 17179869184; PRAGMA cache_size = -32768";
                    pragma.ExecuteNonQuery();
                }

                _leafRead = Prepare(c.Handle!, "SELECT leaf_hash FROM events WHERE idx = ?1");
                _nodeRead = Prepare(c.Handle!, "SELECT hash FROM nodes WHERE lvl = ?1 AND idx = ?2");
                _tileRead = Prepare(c.Handle!, "SELECT hashes FROM tiles WHERE tile = ?1");
                _proofConnection = c;
            }

            var db = _proofConnection.Handle!;

            // Levels 0 to 3 from the tile they lie in, one read per tile.
            var low = leaves.Select(i => (Level: 0, Index: i)).Concat(inner.Where(n => n.Level < TileLevels));
            foreach (var group in low.GroupBy(n => (n.Index << n.Level) >> TileLevels))
            {
                ct.ThrowIfCancellationRequested();
                raw.sqlite3_bind_int64(_tileRead, 1, group.Key);
                var tile = ReadBlob(db, _tileRead!);
                foreach (var n in group)
                {
                    if (tile is { Length: TileSize * 32 })
                    {
                        var first = (int)((n.Index << n.Level) & (TileSize - 1));
                        into[n] = SubtreeHash(tile, first, 1 << n.Level);
                    }
                    else
                    {
                        // The open tile at the right edge, or a store written before tiles.
                        ReadWithoutTile(db, n, into);
                    }
                }
            }

            foreach (var (level, idx) in inner.Where(n => n.Level >= TileLevels))
            {
                raw.sqlite3_bind_int(_nodeRead, 1, level);
                raw.sqlite3_bind_int64(_nodeRead, 2, idx);
                ReadHash(db, _nodeRead!, (level, idx), into);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>A leaf from events; a low node from the nodes table (stores before tiles) or else from its leaves.</summary>
    private void ReadWithoutTile(sqlite3 db, (int Level, long Index) n, Dictionary<(int, long), byte[]> into)
    {
        if (n.Level > 0)
        {
            raw.sqlite3_bind_int(_nodeRead, 1, n.Level);
            raw.sqlite3_bind_int64(_nodeRead, 2, n.Index);
            ReadHash(db, _nodeRead!, n, into);
            if (into.ContainsKey(n))
            {
                return;
            }
        }

        var count = 1 << n.Level;
        var hashes = new byte[count * 32];
        for (var i = 0; i < count; i++)
        {
            raw.sqlite3_bind_int64(_leafRead, 1, (n.Index << n.Level) + i);
            if (ReadBlob(db, _leafRead!) is not { Length: 32 } leaf)
            {
                return; // missing: the caller reports it
            }

            leaf.CopyTo(hashes, i * 32);
        }

        into[n] = SubtreeHash(hashes, 0, count);
    }

    /// <summary>The hash of the perfect subtree over <paramref name="count"/> consecutive leaf hashes from <paramref name="first"/>.</summary>
    private static byte[] SubtreeHash(byte[] hashes, int first, int count) =>
        count == 1
            ? hashes.AsSpan(first * 32, 32).ToArray()
            : Merkle.MerkleHash.Node(SubtreeHash(hashes, first, count / 2), SubtreeHash(hashes, first + (count / 2), count / 2));

    private static void ReadHash(sqlite3 db, sqlite3_stmt stmt, (int, long) key, Dictionary<(int, long), byte[]> into)
    {
        var rc = raw.sqlite3_step(stmt);
        try
        {
            if (rc == raw.SQLITE_ROW)
            {
                into[key] = raw.sqlite3_column_blob(stmt, 0).ToArray();
            }
            else if (rc != raw.SQLITE_DONE)
            {
                throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), rc);
            }
        }
        finally
        {
            raw.sqlite3_reset(stmt);
        }
    }
}
