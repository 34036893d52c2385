using System.CommandLine;
using Skjold.Audit.Export;

namespace Skjold.Cli;

/// <summary><c>skjold audit consistency and audit proof</c>.</summary>
internal static partial class AuditCommand
{
    private static Command Consistency(CliContext context)
    {
        var store = new AuditStoreOptions();
        var size = new Argument<long>("SIZE") { Description = "Size of the earlier tree (for example from a tree head an auditor kept)" };
        var command = new Command("consistency", "Print the proof that the latest signed tree extends the tree of SIZE leaves unchanged (JSON).") { size };
        store.AddTo(command);
        command.SetAction(async (parse, ct) => await WithLogAsync(store, parse, context, ct, async (log, s) =>
        {
            var sth = await log.SignNowAsync(ct).ConfigureAwait(false);
            var old = parse.GetValue(size);
            if (sth is null || old < 1 || old > sth.Size)
            {
                await context.Error.WriteLineAsync($"error: the log has {sth?.Size ?? 0} leaves; SIZE must be from 1 to that").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            var doc = await ProofDocuments.ConsistencyAsync(s, old, sth, ct).ConfigureAwait(false);
            await context.Out.WriteLineAsync(ProofDocuments.Text(doc, indented: true)).ConfigureAwait(false);
            return doc["verified"]!.GetValue<bool>() ? ExitCodes.Ok : ExitCodes.Findings;
        }).ConfigureAwait(false));
        return command;
    }

    private static Command Proof(CliContext context)
    {
        var store = new AuditStoreOptions();
        var index = new Argument<long>("INDEX") { Description = "Leaf index of the event" };
        var command = new Command("proof", "Print the inclusion proof of one event against the latest signed tree head (JSON).") { index };
        store.AddTo(command);
        command.SetAction(async (parse, ct) => await WithLogAsync(store, parse, context, ct, async (log, s) =>
        {
            var sth = await log.SignNowAsync(ct).ConfigureAwait(false);
            var i = parse.GetValue(index);
            if (sth is null || i < 0 || i >= sth.Size)
            {
                await context.Error.WriteLineAsync($"error: leaf {i} is not in the log").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            if (await ProofDocuments.InclusionAsync(s, i, sth, ct).ConfigureAwait(false) is not { } doc)
            {
                await context.Error.WriteLineAsync($"error: leaf {i} is missing from the store; run skjold audit verify").ConfigureAwait(false);
                return ExitCodes.Findings;
            }

            await context.Out.WriteLineAsync(ProofDocuments.Text(doc, indented: true)).ConfigureAwait(false);
            return ExitCodes.Ok;
        }).ConfigureAwait(false));
        return command;
    }
}
