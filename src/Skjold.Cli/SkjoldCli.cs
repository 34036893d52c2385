using System.CommandLine;

namespace Skjold.Cli;

/// <summary>Builds the command tree and runs it, mapping usage errors to exit code 2.</summary>
internal static class SkjoldCli
{
    public static RootCommand Build(CliContext context)
    {
        var root = new RootCommand(
            "Skjold: Kubernetes security and compliance. Scans manifests against the Pod Security Standards " +
            "and platform safeguards, with evidence for auditors.\n" + ExitCodes.HelpText)
        {
            ScanCommand.Create(context),
            ChecksCommand.Create(context),
            InitCommand.Create(context),
            ServeCommand.Create(context),
            InstallCommand.Create(context),
            AuditCommand.Create(context),
            SnapshotCommand.Create(context),
            RbacCommand.Create(context),
            NetpolCommand.Create(context),
            NodeCheckCommand.Create(context),
            ReportCommand.Create(context),
            ReportCommand.Frameworks(context),
        };
        return root;
    }

    public static int Run(string[] args, CliContext context)
    {
        var root = Build(context);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors)
            {
                context.Error.WriteLine($"error: {e.Message}");
            }

            context.Error.WriteLine("Run 'skjold --help' or 'skjold <command> --help' for usage.");
            return ExitCodes.UsageOrInputError;
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = context.Out, Error = context.Error, EnableDefaultExceptionHandler = false });
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Whatever went wrong, the run is incomplete: exit 2 (never 1, which CI reads as
            // "findings") with one line, not a stack trace.
            var inner = ex is AggregateException { InnerExceptions.Count: 1 } agg ? agg.InnerException! : ex;
            context.Error.WriteLine($"error: {Describe(inner)}");
            return ExitCodes.UsageOrInputError;
        }
    }

    private static string Describe(Exception ex) => ex switch
    {
        OutOfMemoryException => "out of memory; the input is too large for this machine (see docs/scan.md for the limits)",
        IOException or UnauthorizedAccessException => ex.Message,
        _ => $"unexpected {ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")}",
    };
}
