using System.CommandLine;
using Skjold.Audit;
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

    /// <summary>Where the trail is, from --postgres, --data-dir and --key-dir.</summary>
    public AuditStoreLocation Location(ParseResult parse, CliContext context) => new()
    {
        DataDirectory = Path.GetFullPath(parse.GetValue(DataDir)!, context.WorkingDirectory),
        Postgres = parse.GetValue(Postgres) is { Length: > 0 } cs ? cs : null,
        KeyDirectory = KeyDirectory(parse, context),
    };

    public IAuditStore Store(ParseResult parse, CliContext context) => AuditLogFactory.CreateStore(Location(parse, context));

    /// <summary>
    /// A store that must already exist (reading commands): a missing SQLite database is an error
    /// naming the directory, and no empty database is created in its place.
    /// </summary>
    public IAuditStore ExistingStore(ParseResult parse, CliContext context)
    {
        try
        {
            return AuditLogFactory.OpenExistingStore(Location(parse, context));
        }
        catch (AuditStoreException ex)
        {
            throw new AuditStoreException(ex.Message + Hint, ex);
        }
    }

    /// <summary>Throws (a one-line error naming the directory) when the embedded store does not exist.</summary>
    public void RequireExisting(ParseResult parse, CliContext context) => ExistingStore(parse, context).DisposeAsync().AsTask().GetAwaiter().GetResult();

    private const string Hint = ": run 'skjold audit init' there first, or give --data-dir or --postgres";

    /// <summary>Opens the store and keys and starts the log. Throws <see cref="AuditStoreException"/> with a message a user can act on.</summary>
    public async Task<AuditLogSession> OpenLogAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        try
        {
            return await AuditLogFactory.OpenAsync(Location(parse, context), time: context.Time, cancellationToken: ct).ConfigureAwait(false);
        }
        catch (AuditStoreException ex) when (ex is not AuditStoreTamperedException && ex.Message.StartsWith("no audit keys", StringComparison.Ordinal))
        {
            throw new AuditStoreException(ex.Message + "; run 'skjold audit init' first (or give --key-dir)", ex);
        }
    }
}
