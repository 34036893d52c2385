using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Skjold.Audit;
using Skjold.Audit.Storage;

namespace Skjold.Cli;

/// <summary><c>skjold audit</c>: the tamper-evident audit trail.</summary>
internal static partial class AuditCommand
{
    public static Command Create(CliContext context)
    {
        var audit = new Command("audit", "Tamper-evident audit trail of API server audit events: init, ingest, serve, verify, checkpoint, query, export, purge, erase, hold, rotate-key.");
        audit.Subcommands.Add(Init(context));
        audit.Subcommands.Add(Ingest(context));
        audit.Subcommands.Add(Verify(context));
        audit.Subcommands.Add(Query(context));
        audit.Subcommands.Add(Export(context));
        audit.Subcommands.Add(Proof(context));
        audit.Subcommands.Add(Consistency(context));
        audit.Subcommands.Add(Checkpoint(context));
        audit.Subcommands.Add(Purge(context));
        audit.Subcommands.Add(Erase(context));
        audit.Subcommands.Add(RotateKey(context));
        audit.Subcommands.Add(Hold(context));
        audit.Subcommands.Add(AuditServeCommand.Create(context));
        return audit;
    }

    private static JsonObject HoldJson(LegalHold h) => new()
    {
        ["id"] = h.Id,
        ["created"] = h.Created.ToString("O", CultureInfo.InvariantCulture),
        ["reason"] = h.Reason,
        ["namespace"] = h.Namespace,
        ["user"] = h.Username,
        ["resource"] = h.Resource,
        ["until"] = h.Until?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
    };

    private static async Task<int> WithLogAsync(AuditStoreOptions store, ParseResult parse, CliContext context, CancellationToken ct, Func<AuditLog, IAuditStore, Task<int>> action)
    {
        AuditLogSession session;
        try
        {
            session = await store.OpenLogAsync(parse, context, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AuditStoreException or IOException or System.Data.Common.DbException)
        {
            await context.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.UsageOrInputError;
        }

        await using (session.ConfigureAwait(false))
        {
            try
            {
                return await action(session.Log, session.Store).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or System.Data.Common.DbException)
            {
                await context.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }
        }
    }

    /// <summary>Reports progress on the calling thread, so that output stays in order.</summary>
}
