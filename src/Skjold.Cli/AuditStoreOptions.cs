using System.CommandLine;
using Skjold.Audit;
using Skjold.Audit.Signing;
using Skjold.Audit.Storage;

namespace Skjold.Cli;

/// <summary>The options every `skjold audit` command shares: where the log lives and where its keys are.</summary>
internal sealed class AuditStoreOptions
{
    public Option<string> DataDir { get; } = new("--data-dir")
    {
        Description = "Directory of the embedded SQLite log (and the keys unless --key-dir)",
        DefaultValueFactory = _ => "skjold-audit",
    };

    public Option<string?> Postgres { get; } = new("--postgres") { Description = "PostgreSQL connection string (production; several receivers share one log)" };

    public Option<string?> KeyDir { get; } = new("--key-dir") { Description = "Directory holding the audit keys (default: --data-dir)" };

    public void AddTo(Command command)
    {
        command.Options.Add(DataDir);
        command.Options.Add(Postgres);
        command.Options.Add(KeyDir);
    }

    public string KeyDirectory(ParseResult parse, CliContext context) =>
        Path.GetFullPath(parse.GetValue(KeyDir) ?? parse.GetValue(DataDir)!, context.WorkingDirectory);

    public IAuditStore Store(ParseResult parse, CliContext context) =>
        parse.GetValue(Postgres) is { Length: > 0 } cs
            ? new PostgresAuditStore(cs)
            : new SqliteAuditStore(Path.GetFullPath(parse.GetValue(DataDir)!, context.WorkingDirectory));

    /// <summary>
    /// A store that must already exist (reading commands): a missing SQLite database is an error
    /// naming the directory, and no empty database is created in its place.
    /// </summary>
    public IAuditStore ExistingStore(ParseResult parse, CliContext context)
    {
        RequireExisting(parse, context);
        return Store(parse, context);
    }

    /// <summary>Throws (a one-line error naming the directory) when the embedded store does not exist.</summary>
    public void RequireExisting(ParseResult parse, CliContext context)
    {
        if (parse.GetValue(Postgres) is not { Length: > 0 })
        {
            var dir = Path.GetFullPath(parse.GetValue(DataDir)!, context.WorkingDirectory);
            if (!File.Exists(Path.Combine(dir, SqliteAuditStore.FileName)))
            {
                throw new FileNotFoundException($"no audit trail in {dir} ({SqliteAuditStore.FileName} not found): run 'skjold audit init' there first, or give --data-dir or --postgres");
            }
        }
    }

    /// <summary>Opens the store and keys and starts the log. Throws with a message a user can act on.</summary>
    public async Task<(AuditLog Log, IAuditStore Store, AuditKeys Keys)> OpenLogAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        var keyDir = KeyDirectory(parse, context);
        if (!AuditKeys.Exist(keyDir))
        {
            throw new InvalidOperationException($"no audit keys in {keyDir}; run 'skjold audit init' first");
        }

        IReadOnlyList<Skjold.Audit.Events.RedactionRule> redaction;
        try
        {
            redaction = Skjold.Audit.Events.RedactionRules.Load(keyDir);
        }
        catch (FormatException ex)
        {
            throw new InvalidOperationException(ex.Message, ex);
        }

        var keys = AuditKeys.Load(keyDir);
        var store = Store(parse, context);
        await store.InitializeAsync(ct).ConfigureAwait(false);
        var log = new AuditLog(store, keys, new AuditLogOptions { Redaction = redaction }, context.Time);
        await log.StartAsync(ct).ConfigureAwait(false);
        return (log, store, keys);
    }
}
