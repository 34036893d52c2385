using Skjold.Audit.Events;

namespace Skjold.Audit.Storage;

/// <summary>Retention and erasure (each recorded in the log itself), legal holds and ingest offsets.</summary>
public abstract partial class SqlAuditStore
{
    public async Task<IngestOffset?> GetOffsetAsync(string path, CancellationToken cancellationToken)
    {
        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var cmd = Command(c, null, "SELECT file_id, byte_offset FROM ingest_offsets WHERE path = @p", ("p", path));
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await r.ReadAsync(cancellationToken).ConfigureAwait(false) ? new IngestOffset(path, r.GetString(0), r.GetInt64(1)) : null;
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }

    public async Task<RedactionOutcome> PurgeAsync(DateTimeOffset before, string? resource, IReadOnlyList<string> exceptResources, IReadOnlyList<LegalHold> holds,
        bool dryRun, CancellationToken cancellationToken)
    {
        var where = new List<string> { "ts < @before", "purged = 0" };
        var args = new List<(string, object)> { ("before", Micros(before)) };
        if (resource is not null)
        {
            where.Add("resource = @res");
            args.Add(("res", resource));
        }

        for (var x = 0; x < exceptResources.Count; x++)
        {
            where.Add($"COALESCE(resource <> @ex{x}, 1 = 1)");
            args.Add(($"ex{x}", exceptResources[x]));
        }

        var i = 0;
        foreach (var h in holds)
        {
            var terms = new List<string>();
            if (h.Namespace is not null)
            {
                terms.Add($"namespace = @hn{i}");
                args.Add(($"hn{i}", h.Namespace));
            }

            if (h.Username is not null)
            {
                terms.Add($"username = @hu{i}");
                args.Add(($"hu{i}", h.Username));
            }

            if (h.Resource is not null)
            {
                terms.Add($"resource = @hr{i}");
                args.Add(($"hr{i}", h.Resource));
            }

            where.Add(terms.Count == 0 ? "1 = 0" : $"NOT ({string.Join(" AND ", terms.Select(t => $"COALESCE({t}, 1 = 0)"))})");
            i++;
        }

        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var tx = await BeginAppendAsync(c, cancellationToken).ConfigureAwait(false);
            var cond = string.Join(" AND ", where);

            // What is purged, in leaf order, with what a purge keeps of each: the purge record seals it.
            var outcome = new RedactionDigest();
            foreach (var (record, _) in await ReadRecordsAsync(c, tx, $"SELECT {SelectList(false)} FROM events e WHERE {cond} ORDER BY e.idx", args, false, cancellationToken).ConfigureAwait(false))
            {
                outcome.AddKept(record);
            }

            if (!dryRun && outcome.Count > 0)
            {
                if (HasGroupIndex)
                {
                    await ExecAsync(c, tx, $"DELETE FROM group_index WHERE idx IN (SELECT idx FROM events WHERE {cond})", cancellationToken, [.. args]).ConfigureAwait(false);
                }

                await ExecAsync(c, tx,
                    $"UPDATE events SET payload = NULL, purged = 1, audit_id = NULL, stage = NULL, username = NULL, groups = NULL, source_ip = NULL, user_agent = NULL, name = NULL, request_uri = NULL WHERE {cond}",
                    cancellationToken, [.. args]).ConfigureAwait(false);
            }

            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return outcome.Finish();
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Replaces the payloads of <paramref name="user"/>'s events with <paramref name="rewrite"/>'s
    /// result (its identifying fields replaced by keyed hashes) and the columns with those of the new
    /// payload; leaf hashes stay. Returns the leaves changed and the digest of their new payloads,
    /// which the erasure record seals.
    /// </summary>
    public async Task<RedactionOutcome> EraseAsync(string user, Func<byte[], byte[]> rewrite, bool dryRun, CancellationToken cancellationToken)
    {
        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var tx = await BeginAppendAsync(c, cancellationToken).ConfigureAwait(false);
            var rows = await ReadRecordsAsync(c, tx, $"SELECT {SelectList(true)} FROM events e WHERE e.username = @u AND e.purged = 0 AND e.payload IS NOT NULL ORDER BY e.idx",
                [("u", user)], true, cancellationToken).ConfigureAwait(false);
            var outcome = new RedactionDigest();
            foreach (var (record, payload) in rows)
            {
                var erased = rewrite(payload!);
                outcome.AddPayload(record.Index, erased);
                if (dryRun)
                {
                    continue;
                }

                using var doc = System.Text.Json.JsonDocument.Parse(erased);
                var f = AuditEventReader.Extract(doc.RootElement, record.Index);
                await ExecAsync(c, tx,
                    "UPDATE events SET payload = @p, username = @u, groups = @g, source_ip = @ip, user_agent = @ua WHERE idx = @i", cancellationToken,
                    ("p", erased), ("u", (object?)f.Username ?? DBNull.Value), ("g", (object?)JoinGroups(f.Groups) ?? DBNull.Value),
                    ("ip", (object?)f.SourceIp ?? DBNull.Value), ("ua", (object?)f.UserAgent ?? DBNull.Value), ("i", record.Index)).ConfigureAwait(false);
            }

            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return outcome.Finish();
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }

    public async Task<LegalHold> AddHoldAsync(LegalHold hold, CancellationToken cancellationToken)
    {
        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var cmd = Command(c, null,
                "INSERT INTO holds(reason, namespace, username, resource, created, until) VALUES (@r, @n, @u, @res, @c, @until) RETURNING id",
                ("r", hold.Reason), ("n", (object?)hold.Namespace ?? DBNull.Value), ("u", (object?)hold.Username ?? DBNull.Value),
                ("res", (object?)hold.Resource ?? DBNull.Value), ("c", hold.Created.ToUnixTimeMilliseconds()), ("until", (object?)hold.Until?.ToUnixTimeMilliseconds() ?? DBNull.Value));
            var id = Convert.ToInt64(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
            return hold with { Id = id };
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }

    public async Task<bool> ReleaseHoldAsync(long id, CancellationToken cancellationToken)
    {
        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ExecAsync(c, null, "DELETE FROM holds WHERE id = @id", cancellationToken, ("id", id)).ConfigureAwait(false) > 0;
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }

    public async Task<IReadOnlyList<LegalHold>> HoldsAsync(CancellationToken cancellationToken)
    {
        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var list = new List<LegalHold>();
            await using var cmd = Command(c, null, "SELECT id, reason, namespace, username, resource, created, until FROM holds ORDER BY id");
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                list.Add(new LegalHold(r.GetInt64(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3),
                    r.IsDBNull(4) ? null : r.GetString(4), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5)),
                    r.IsDBNull(6) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(6))));
            }

            return list;
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }
}
