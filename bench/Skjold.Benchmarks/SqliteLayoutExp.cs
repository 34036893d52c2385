using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Skjold.Audit.Events;
using Skjold.Audit.Signing;
using SQLitePCL;

namespace Skjold.Benchmarks;

/// <summary>
/// Where the embedded writer's time goes, by storage layout: N prepared events written in
/// 2,000-event durable transactions. Modes: rows (one row per event, no secondary index),
/// rows-idx (with the seven B-tree indexes the store used to keep), rows-cheap (only the indexes
/// whose keys grow with time), meta (rows without payloads plus one blob per transaction), chunk
/// (one blob per transaction only), tailfull-idx and tailmeta-idx (an unindexed tail moved into the
/// indexed table every 64,000 events, with or without payloads).
/// </summary>
internal static class SqliteLayoutExp
{
    public static int Run(int n, string mode)
    {
        var dir = Directory.CreateTempSubdirectory("skjold-layout-").FullName;
        try
        {
            using var keys = AuditKeys.Create(dir);
            var redactor = new KeyedRedactor(keys.RedactionKey);
            var prepared = Enumerable.Range(0, n).Select(i => AuditEventReader.Prepare(AuditBench.Event(i), redactor)).ToList();
            using var c = new SqliteConnection($"Data Source={Path.Combine(dir, "x.db")}");
            c.Open();
            Exec(c, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 131072");
            Exec(c, "CREATE TABLE events(idx INTEGER PRIMARY KEY, ts INTEGER, a TEXT, b TEXT, v TEXT, u TEXT, ip TEXT, ua TEXT, r TEXT, s TEXT, ns TEXT, nm TEXT, g TEXT, code INTEGER, uri TEXT, gr TEXT, h BLOB, p BLOB)");
            Exec(c, "CREATE TABLE chunks(first INTEGER PRIMARY KEY, data BLOB)");
            Exec(c, "CREATE TABLE tail(idx INTEGER PRIMARY KEY, ts INTEGER, a TEXT, b TEXT, v TEXT, u TEXT, ip TEXT, ua TEXT, r TEXT, s TEXT, ns TEXT, nm TEXT, g TEXT, code INTEGER, uri TEXT, gr TEXT, h BLOB, p BLOB)");
            Exec(c, "CREATE TABLE payloads(idx INTEGER PRIMARY KEY, h BLOB, p BLOB)");
            var tail = mode.StartsWith("tail", StringComparison.Ordinal);
            var meta = mode.StartsWith("tailmeta", StringComparison.Ordinal);
            if (mode.Contains("idx", StringComparison.Ordinal))
            {
                Exec(c, "CREATE INDEX e1 ON events(ts); CREATE INDEX e2 ON events(u, ts); CREATE INDEX e3 ON events(r, ns, nm, ts); CREATE INDEX e4 ON events(ns, ts); CREATE INDEX e5 ON events(ip, ts); CREATE INDEX e6 ON events(ts, idx) WHERE code >= 400; CREATE INDEX e7 ON events(s, r, ts) WHERE s IS NOT NULL");
            }

            if (mode.Contains("cheap", StringComparison.Ordinal))
            {
                Exec(c, "CREATE INDEX e1 ON events(ts); CREATE INDEX e6 ON events(ts, idx) WHERE code >= 400; CREATE INDEX e7 ON events(s, r, ts) WHERE s IS NOT NULL");
            }

            var db = c.Handle!;
            var moves = 0.0;
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < n; i += 2000)
            {
                var batch = prepared.Skip(i).Take(2000).ToList();
                Exec(c, "BEGIN IMMEDIATE");
                if (mode.StartsWith("rows", StringComparison.Ordinal) || mode.StartsWith("meta", StringComparison.Ordinal) || tail)
                {
                    var full = mode.StartsWith("rows", StringComparison.Ordinal) || (tail && !meta);
                    raw.sqlite3_prepare_v2(db, "INSERT INTO payloads VALUES (?1, ?2, ?3)", out var pst);
                    raw.sqlite3_prepare_v2(db, "INSERT INTO " + (tail ? "tail" : "events") + " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18)", out var st);
                    var idx = (long)i;
                    foreach (var e in batch)
                    {
                        var f = e.Fields;
                        raw.sqlite3_bind_int64(st, 1, idx++);
                        raw.sqlite3_bind_int64(st, 2, f.Time.UtcTicks);
                        raw.sqlite3_bind_text(st, 3, f.AuditId);
                        raw.sqlite3_bind_text(st, 4, f.Stage);
                        raw.sqlite3_bind_text(st, 5, f.Verb);
                        raw.sqlite3_bind_text(st, 6, f.Username);
                        raw.sqlite3_bind_text(st, 7, f.SourceIp);
                        raw.sqlite3_bind_text(st, 8, f.UserAgent);
                        raw.sqlite3_bind_text(st, 9, f.Resource);
                        raw.sqlite3_bind_text(st, 10, f.Subresource);
                        raw.sqlite3_bind_text(st, 11, f.Namespace);
                        raw.sqlite3_bind_text(st, 12, f.Name);
                        raw.sqlite3_bind_text(st, 13, f.ApiGroup);
                        raw.sqlite3_bind_int64(st, 14, f.Code ?? 0);
                        raw.sqlite3_bind_text(st, 15, f.RequestUri);
                        raw.sqlite3_bind_text(st, 16, string.Join('\n', f.Groups));
                        raw.sqlite3_bind_blob(st, 17, e.LeafHash);
                        if (full)
                        {
                            raw.sqlite3_bind_blob(st, 18, e.Canonical);
                        }
                        else
                        {
                            raw.sqlite3_bind_null(st, 18);
                        }

                        raw.sqlite3_step(st);
                        raw.sqlite3_reset(st);
                        if (meta)
                        {
                            raw.sqlite3_bind_int64(pst, 1, idx - 1);
                            raw.sqlite3_bind_blob(pst, 2, e.LeafHash);
                            raw.sqlite3_bind_blob(pst, 3, e.Canonical);
                            raw.sqlite3_step(pst);
                            raw.sqlite3_reset(pst);
                        }
                    }

                    st.Dispose();
                    pst.Dispose();
                }

                if (mode.StartsWith("chunk", StringComparison.Ordinal) || mode.StartsWith("meta", StringComparison.Ordinal))
                {
                    var ms = new MemoryStream();
                    foreach (var e in batch)
                    {
                        ms.Write(BitConverter.GetBytes(e.Canonical.Length));
                        ms.Write(e.Canonical);
                    }

                    raw.sqlite3_prepare_v2(db, "INSERT INTO chunks VALUES (?1, ?2)", out var st);
                    raw.sqlite3_bind_int64(st, 1, i);
                    raw.sqlite3_bind_blob(st, 2, ms.ToArray());
                    raw.sqlite3_step(st);
                    st.Dispose();
                }

                Exec(c, "COMMIT");
                if (tail && (i + 2000) % 64000 == 0)
                {
                    var t = Stopwatch.StartNew();
                    Exec(c, "BEGIN IMMEDIATE; INSERT INTO events SELECT * FROM tail ORDER BY idx; DELETE FROM tail; COMMIT");
                    moves += t.Elapsed.TotalMilliseconds;
                }
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{mode}: {n / sw.Elapsed.TotalSeconds:N0} events/s ({sw.Elapsed.TotalMilliseconds / n * 1000:F1} us/event), moves {moves:F0} ms"));
            return 0;
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(dir, true);
        }
    }

    private static void Exec(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
}
