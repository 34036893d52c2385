using Microsoft.Extensions.Logging;
using Skjold.Audit.Events;
using Skjold.Audit.Signing;
using Skjold.Audit.Storage;

namespace Skjold.Audit;

/// <summary>
/// Store, keys and log set up one way for every host (<c>serve</c>, <c>audit serve</c> and the
/// CLI's audit commands). Failures are <see cref="AuditStoreException"/>s whose message says what
/// is missing; callers add how to fix it in their own terms.
/// </summary>
public static class AuditLogFactory
{
    /// <summary>The store at <paramref name="location"/>, created on first use.</summary>
    public static IAuditStore CreateStore(AuditStoreLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        return location.IsPostgres ? new PostgresAuditStore(location.Postgres!) : new SqliteAuditStore(location.DataDirectory);
    }

    /// <summary>A store that must exist already (readers): a missing embedded database is an error, and no empty one is created in its place.</summary>
    public static IAuditStore OpenExistingStore(AuditStoreLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        if (!location.IsPostgres && !File.Exists(Path.Combine(location.DataDirectory, SqliteAuditStore.FileName)))
        {
            throw new AuditStoreException($"no audit trail in {location.DataDirectory} ({SqliteAuditStore.FileName} not found)");
        }

        return CreateStore(location);
    }

    /// <summary>Loads the keys and redaction rules, opens (and migrates) the store, and starts the log.</summary>
    public static async Task<AuditLogSession> OpenAsync(AuditStoreLocation location, AuditLogOptions? options = null, TimeProvider? time = null,
        ILoggerFactory? loggers = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(location);
        var keyDir = location.Keys;
        if (!AuditKeys.Exist(keyDir))
        {
            throw new AuditStoreException($"no audit keys in {keyDir}");
        }

        IReadOnlyList<RedactionRule> redaction;
        AuditKeys keys;
        try
        {
            redaction = RedactionRules.Load(keyDir);
            keys = AuditKeys.Load(keyDir);
        }
        catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new AuditStoreException($"cannot load the audit keys in {keyDir}: {ex.Message}", ex);
        }

        var store = CreateStore(location);
        try
        {
            try
            {
                await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (System.Data.Common.DbException ex)
            {
                throw new AuditStoreException($"cannot open the audit store ({store.Description}): {ex.Message}", ex);
            }

            var log = new AuditLog(store, keys, (options ?? new AuditLogOptions()) with { Redaction = redaction }, time, loggers?.CreateLogger<AuditLog>());
            await log.StartAsync(cancellationToken).ConfigureAwait(false);
            return new AuditLogSession(log, store, keys);
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            keys.Dispose();
            throw;
        }
    }
}

/// <summary>A started log with its store and keys; disposing stops the log (signing what is unsigned), then closes the store and keys.</summary>
public sealed class AuditLogSession(AuditLog log, IAuditStore store, AuditKeys keys) : IAsyncDisposable
{
    public AuditLog Log { get; } = log;

    public IAuditStore Store { get; } = store;

    /// <summary>The keys the log was opened with (after a rotation the log signs with <see cref="AuditLog.Keys"/>).</summary>
    public AuditKeys Keys { get; } = keys;

    public async ValueTask DisposeAsync()
    {
        var current = Log.Keys;
        await Log.DisposeAsync().ConfigureAwait(false);
        await Store.DisposeAsync().ConfigureAwait(false);
        Keys.Dispose();
        if (!ReferenceEquals(current, Keys))
        {
            current.Dispose();
        }
    }
}
