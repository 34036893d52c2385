using Npgsql;

namespace Skjold.SupplyChain.Policy;

/// <summary>Verdicts in table <c>image_verifications</c> of the audit trail's PostgreSQL database, expiring by time.</summary>
public sealed class PostgresVerificationStore(NpgsqlDataSource db, TimeProvider? time = null) : IVerificationStore
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public static async Task<PostgresVerificationStore> OpenAsync(NpgsqlDataSource db, TimeProvider? time, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            "CREATE TABLE IF NOT EXISTS image_verifications (key text PRIMARY KEY, verified boolean NOT NULL, message text NOT NULL, expires timestamptz NOT NULL)");
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        return new PostgresVerificationStore(db, time);
    }

    public async ValueTask<(bool Verified, string Message)?> GetAsync(string key, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("SELECT verified, message FROM image_verifications WHERE key = $1 AND expires > $2");
        cmd.Parameters.AddWithValue(key);
        cmd.Parameters.AddWithValue(_time.GetUtcNow());
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false) ? (reader.GetBoolean(0), reader.GetString(1)) : null;
    }

    public async ValueTask PutAsync(string key, bool verified, string message, DateTimeOffset expires, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            "INSERT INTO image_verifications (key, verified, message, expires) VALUES ($1, $2, $3, $4) " +
            "ON CONFLICT (key) DO UPDATE SET verified = EXCLUDED.verified, message = EXCLUDED.message, expires = EXCLUDED.expires");
        cmd.Parameters.AddWithValue(key);
        cmd.Parameters.AddWithValue(verified);
        cmd.Parameters.AddWithValue(message);
        cmd.Parameters.AddWithValue(expires);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}
