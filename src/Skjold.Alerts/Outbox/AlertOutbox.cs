using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Npgsql;
using Skjold.Alerts.Outputs;

namespace Skjold.Alerts.Outbox;

/// <summary>
/// The durable queue between detection and the outputs: one row per (output, alert), in a
/// sequence that fixes each output's order. An alert is queued in the same store the trail uses
/// (a file beside the SQLite trail, or the trail's PostgreSQL database) before anything is sent,
/// and leaves the queue only when its output confirms delivery, so a receiver that is down, or a
/// restart, loses nothing. Queueing the same (output, alert id) twice is a no-op.
/// </summary>
public sealed class AlertOutbox : IAsyncDisposable
{
    private const string Columns = "seq, output, alert_id, attempts, body";
    private readonly Func<DbConnection> _open;
    private readonly bool _postgres;
    private readonly NpgsqlDataSource? _dataSource;
    private readonly TimeProvider _time;

    private AlertOutbox(Func<DbConnection> open, bool postgres, NpgsqlDataSource? dataSource, string description, TimeProvider? time)
    {
        _open = open;
        _postgres = postgres;
        _dataSource = dataSource;
        Description = description;
        _time = time ?? TimeProvider.System;
    }

    public string Description { get; }

    /// <summary>The outbox file beside an embedded trail.</summary>
    public const string FileName = "alerts.db";

    public static AlertOutbox Sqlite(string path, TimeProvider? time = null)
    {
        var cs = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 }.ToString();
        return new AlertOutbox(() => new SqliteConnection(cs), false, null, path, time);
    }

    public static AlertOutbox Postgres(string connectionString, TimeProvider? time = null)
    {
        var ds = NpgsqlDataSource.Create(connectionString);
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        return new AlertOutbox(ds.CreateConnection, true, ds, $"postgresql://{b.Host}:{b.Port}/{b.Database} (alert_outbox)", time);
    }

    /// <summary>Creates the table (idempotent); an embedded outbox file is created owner-only.</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        if (!_postgres && Description != ":memory:" && !File.Exists(Description))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(Description))!);
            using (File.Create(Description))
            {
            }

            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(Description, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        await using var c = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var ddl = _postgres
            ? """
              CREATE TABLE IF NOT EXISTS alert_outbox (
                seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                output TEXT NOT NULL, alert_id TEXT NOT NULL, rule TEXT NOT NULL, body TEXT NOT NULL,
                state SMALLINT NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
                created BIGINT NOT NULL, done BIGINT, UNIQUE (output, alert_id));
              CREATE INDEX IF NOT EXISTS alert_outbox_pending ON alert_outbox (output, state, seq);
              """
            : """
              PRAGMA journal_mode = WAL;
              CREATE TABLE IF NOT EXISTS alert_outbox (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                output TEXT NOT NULL, alert_id TEXT NOT NULL, rule TEXT NOT NULL, body TEXT NOT NULL,
                state INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
                created INTEGER NOT NULL, done INTEGER, UNIQUE (output, alert_id));
              CREATE INDEX IF NOT EXISTS alert_outbox_pending ON alert_outbox (output, state, seq);
              """;
        await ExecAsync(c, ddl, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Queues each alert for each named output in one transaction; returns how many rows were new.</summary>
    public async Task<int> EnqueueAsync(IReadOnlyList<(string Output, Alert Alert)> items, CancellationToken cancellationToken = default) =>
        (await EnqueueByOutputAsync(items, cancellationToken).ConfigureAwait(false)).Values.Sum();

    /// <summary>As <see cref="EnqueueAsync"/>, returning the rows added per output (an alert already queued for an output adds none).</summary>
    public async Task<IReadOnlyDictionary<string, int>> EnqueueByOutputAsync(IReadOnlyList<(string Output, Alert Alert)> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        if (items.Count == 0)
        {
            return added;
        }

        await using var c = await OpenAsync(cancellationToken).ConfigureAwait(false);
        if (!_postgres)
        {
            await ExecAsync(c, "PRAGMA synchronous = FULL", cancellationToken).ConfigureAwait(false); // a queued alert is on disk before detection moves on
        }

        await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "INSERT INTO alert_outbox (output, alert_id, rule, body, created) VALUES (@o, @id, @r, @b, @t) ON CONFLICT (output, alert_id) DO NOTHING";
        var o = Param(cmd, "o");
        var id = Param(cmd, "id");
        var r = Param(cmd, "r");
        var b = Param(cmd, "b");
        var t = Param(cmd, "t");
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var (output, alert) in items)
        {
            o.Value = output;
            id.Value = alert.Id;
            r.Value = alert.Rule;
            b.Value = JsonSerializer.Serialize(alert, AlertsJsonContext.Default.Alert);
            t.Value = now;
            var n = await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            added[output] = added.GetValueOrDefault(output) + n;
        }

        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return added;
    }

    /// <summary>The next undelivered alerts of an output after <paramref name="afterSeq"/>, in order.</summary>
    public async Task<IReadOnlyList<OutboxEntry>> PendingAsync(string output, long afterSeq, int limit, CancellationToken cancellationToken = default)
    {
        await using var c = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {Columns} FROM alert_outbox WHERE output = @o AND state = 0 AND seq > @s ORDER BY seq LIMIT @n";
        Param(cmd, "o").Value = output;
        Param(cmd, "s").Value = afterSeq;
        Param(cmd, "n").Value = limit;
        var list = new List<OutboxEntry>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var alert = JsonSerializer.Deserialize(reader.GetString(4), AlertsJsonContext.Default.Alert)
                ?? throw new InvalidDataException($"alert outbox row {reader.GetInt64(0)} holds no alert");
            list.Add(new OutboxEntry(reader.GetInt64(0), reader.GetString(1), alert, Convert.ToInt32(reader.GetValue(3), CultureInfo.InvariantCulture)));
        }

        return list;
    }

    /// <summary>Marks every pending alert of the output up to <paramref name="upToSeq"/> delivered.</summary>
    public Task<int> MarkDeliveredAsync(string output, long upToSeq, CancellationToken cancellationToken = default) =>
        UpdateAsync("UPDATE alert_outbox SET state = 1, done = @t WHERE output = @o AND state = 0 AND seq <= @s", output, upToSeq, null, cancellationToken);

    /// <summary>Marks one alert held back by the output's rate limit (it is counted in a summary alert instead).</summary>
    public Task<int> MarkSuppressedAsync(string output, long seq, CancellationToken cancellationToken = default) =>
        UpdateAsync("UPDATE alert_outbox SET state = 2, done = @t WHERE output = @o AND state = 0 AND seq = @s", output, seq, null, cancellationToken);

    /// <summary>Counts a failed attempt on the alerts from <paramref name="fromSeq"/> (the head of the output's queue).</summary>
    public Task<int> RecordFailureAsync(string output, long fromSeq, string error, CancellationToken cancellationToken = default) =>
        UpdateAsync("UPDATE alert_outbox SET attempts = attempts + 1, last_error = @e WHERE output = @o AND state = 0 AND seq = (SELECT MIN(seq) FROM alert_outbox WHERE output = @o AND state = 0 AND seq >= @s)",
            output, fromSeq, error, cancellationToken);

    /// <summary>How many alerts wait for the output.</summary>
    public async Task<long> DepthAsync(string output, CancellationToken cancellationToken = default)
    {
        await using var c = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM alert_outbox WHERE output = @o AND state = 0";
        Param(cmd, "o").Value = output;
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    /// <summary>Every row of an output, in order, with its state (0 pending, 1 delivered, 2 suppressed): for tests and `skjold alerts`.</summary>
    public async Task<IReadOnlyList<(long Seq, string AlertId, int State, int Attempts, string? LastError)>> RowsAsync(string output, CancellationToken cancellationToken = default)
    {
        await using var c = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT seq, alert_id, state, attempts, last_error FROM alert_outbox WHERE output = @o ORDER BY seq";
        Param(cmd, "o").Value = output;
        var list = new List<(long, string, int, int, string?)>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add((reader.GetInt64(0), reader.GetString(1), Convert.ToInt32(reader.GetValue(2), CultureInfo.InvariantCulture), Convert.ToInt32(reader.GetValue(3), CultureInfo.InvariantCulture), reader.IsDBNull(4) ? null : reader.GetString(4)));
        }

        return list;
    }

    /// <summary>Deletes delivered and suppressed rows finished before <paramref name="before"/> (the alerts stay sealed in the trail).</summary>
    public async Task<int> PruneAsync(DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        await using var c = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "DELETE FROM alert_outbox WHERE state <> 0 AND done < @t";
        Param(cmd, "t").Value = before.ToUnixTimeMilliseconds();
        return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Holds the right to deliver an output while the returned lease lives: with PostgreSQL shared by
    /// replicas, one replica delivers each output (a session advisory lock), so order holds and
    /// nothing is sent twice by two replicas. Null when another replica holds it.
    /// </summary>
    public async Task<IAsyncDisposable?> TryLeaseAsync(string output, CancellationToken cancellationToken = default)
    {
        if (!_postgres)
        {
            return NoLease.Instance;
        }

        var c = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT pg_try_advisory_lock(hashtextextended('skjold-alert-output:' || @o, 0))";
        Param(cmd, "o").Value = output;
        if (await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true)
        {
            return new AdvisoryLease(c, output);
        }

        await c.DisposeAsync().ConfigureAwait(false);
        return null;
    }

    private async Task<int> UpdateAsync(string sql, string output, long seq, string? error, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken).ConfigureAwait(false);
        if (!_postgres)
        {
            // A state change (delivered, suppressed, a failed attempt) need not reach the disk at once: if it is
            // lost in a crash, the alert is sent again (delivery is at-least-once, de-duplicated by id). In WAL
            // mode the next queued alert's synchronous commit makes it durable too. Queueing stays FULL.
            // A command of its own, so the update's row count is not mixed with the pragma's (SQLite reports the
            // connection's last change count for it).
            await ExecAsync(c, "PRAGMA synchronous = NORMAL", cancellationToken).ConfigureAwait(false);
        }

        await using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        Param(cmd, "o").Value = output;
        Param(cmd, "s").Value = seq;
        if (sql.Contains("@t", StringComparison.Ordinal))
        {
            Param(cmd, "t").Value = _time.GetUtcNow().ToUnixTimeMilliseconds();
        }

        if (sql.Contains("@e", StringComparison.Ordinal))
        {
            Param(cmd, "e").Value = error ?? "";
        }

        return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false); // the rows changed
    }

    private async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var c = _open();
        await c.OpenAsync(cancellationToken).ConfigureAwait(false);
        return c;
    }

    private static async Task ExecAsync(DbConnection c, string sql, CancellationToken cancellationToken)
    {
        await using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static DbParameter Param(DbCommand cmd, string name)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = name;
        cmd.Parameters.Add(p);
        return p;
    }

    public async ValueTask DisposeAsync()
    {
        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>An advisory lock held on its own session; released explicitly (a pooled connection outlives its Dispose).</summary>
    private sealed class AdvisoryLease(DbConnection connection, string output) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await using var cmd = connection.CreateCommand();
                cmd.CommandText = "SELECT pg_advisory_unlock(hashtextextended('skjold-alert-output:' || @o, 0))";
                Param(cmd, "o").Value = output;
                await cmd.ExecuteScalarAsync().ConfigureAwait(false);
            }
            catch (DbException)
            {
                // a broken session has released its locks already
            }

            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private sealed class NoLease : IAsyncDisposable
    {
        public static readonly NoLease Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
