using System.CommandLine;
using Skjold.Audit.Storage;
using Skjold.Incidents;

namespace Skjold.Cli;

/// <summary>Opening the incident journal for a command: writable or read-only, one incident by id, or one that is still open.</summary>
internal static partial class IncidentCommand
{
    /// <summary>Runs <paramref name="act"/> with the journal over the log (opened for writing); store errors are one line and exit 2.</summary>
    private static async Task<int> WithJournalAsync(AuditStoreOptions store, ParseResult parse, CliContext context, CancellationToken ct, Func<IncidentJournal, Task> act)
    {
        try
        {
            store.RequireExisting(parse, context);
            await using var session = await store.OpenLogAsync(parse, context, ct).ConfigureAwait(false);
            await act(new IncidentJournal(session.Store, session.Log)).ConfigureAwait(false);
            return ExitCodes.Ok;
        }
        catch (AuditStoreException ex)
        {
            await context.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.UsageOrInputError;
        }
    }

    internal static async Task<int> WithReaderAsync(AuditStoreOptions store, ParseResult parse, CliContext context, CancellationToken ct, Func<IncidentJournal, Task> act)
    {
        try
        {
            await using var s = store.ExistingStore(parse, context);
            await act(new IncidentJournal(s)).ConfigureAwait(false);
            return ExitCodes.Ok;
        }
        catch (AuditStoreException ex)
        {
            await context.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.UsageOrInputError;
        }
    }

    internal static async Task<int> WithIncidentAsync(AuditStoreOptions store, ParseResult parse, CliContext context, string id, CancellationToken ct, Action<Incident> act)
    {
        Incident? found = null;
        var code = await WithReaderAsync(store, parse, context, ct, async j => found = await j.FindAsync(id, ct).ConfigureAwait(false)).ConfigureAwait(false);
        if (code != ExitCodes.Ok)
        {
            return code;
        }

        if (found is null)
        {
            await context.Error.WriteLineAsync($"error: no incident {id} in the trail (skjold incident list shows them)").ConfigureAwait(false);
            return ExitCodes.UsageOrInputError;
        }

        act(found);
        return ExitCodes.Ok;
    }

    private static async Task<int> WithOpenIncidentAsync(AuditStoreOptions store, ParseResult parse, CliContext context, string id, CancellationToken ct, Func<IncidentJournal, Incident, Task> act)
    {
        var missing = false;
        var closed = false;
        var code = await WithJournalAsync(store, parse, context, ct, async journal =>
        {
            var incident = await journal.FindAsync(id, ct).ConfigureAwait(false);
            if (incident is null)
            {
                missing = true;
                return;
            }

            if (incident.Status == IncidentStatus.Closed)
            {
                closed = true;
                return;
            }

            await act(journal, incident).ConfigureAwait(false);
        }).ConfigureAwait(false);
        if (missing || closed)
        {
            await context.Error.WriteLineAsync(missing ? $"error: no incident {id} in the trail (skjold incident list shows them)" : $"error: {id} is closed; open a new incident for new findings").ConfigureAwait(false);
            return ExitCodes.UsageOrInputError;
        }

        return code;
    }
}
