using System.CommandLine;
using System.CommandLine.Parsing;
using Skjold.Engine;

namespace Skjold.Cli;

/// <summary>Builds the command tree and runs it, mapping usage errors to exit code 2.</summary>
internal static partial class SkjoldCli
{
    public static RootCommand Build(CliContext context)
    {
        var plugin = context.InvokedAs.StartsWith("kubectl-", StringComparison.Ordinal);
        var root = new RootCommand(
            "Skjold: Kubernetes security and compliance. Scans manifests against the Pod Security Standards " +
            "and platform safeguards, with evidence for auditors.\n" +
            (plugin
                ? "Running as a kubectl plugin: write 'kubectl skjold COMMAND' where this help writes 'skjold COMMAND'.\n"
                : "Also a kubectl plugin: put this binary (or a link to it) on the PATH as kubectl-skjold and run 'kubectl skjold COMMAND'.\n") +
            ExitCodes.HelpText)
        {
            ScanCommand.Create(context),
            ChecksCommand.Create(context),
            InitCommand.Create(context),
            ServeCommand.Create(context),
            InstallCommand.Create(context),
            AuditCommand.Create(context),
            DetectCommand.Create(context),
            RulesCommand.Create(context),
            VerifyImageCommand.Create(context),
            ImagesCommand.Create(context),
            IncidentCommand.Create(context),
            SnapshotCommand.Create(context),
            RbacCommand.Create(context),
            NetpolCommand.Create(context),
            NodeCheckCommand.Create(context),
            ReportCommand.Create(context),
            FrameworksCommand.Create(context),
            VersionCommand.Create(context),
            CompletionCommand.Create(context),
        };
        HelpTexts.Apply(root);
        AddOutputOptions(root);
        context.Globals = new GlobalOptions();
        context.Globals.AddTo(root);
        GlobalOptions.Contexts.AddOrUpdate(root, context);
        foreach (var option in root.Options)
        {
            if (option is VersionOption version)
            {
                version.Action = new ShortVersion(context);
            }
        }

        return root;
    }

    /// <summary>
    /// -o/--output FILE on every command that prints results and has no file option of its own: the
    /// command writes as it would to stdout, and the text lands in FILE (only when the run did not
    /// fail with exit 2, so a failed run leaves no half-written file).
    /// </summary>
    private static void AddOutputOptions(Command c)
    {
        foreach (var sub in c.Subcommands)
        {
            AddOutputOptions(sub);
        }

        if (c.Subcommands.Count == 0 && c.Options.Any(o => o.Name == "--format") && !c.Options.Any(o => o.Name == "--output"))
        {
            c.Options.Add(new Option<string?>("--output", "-o") { Description = "Write the results to this file instead of stdout (- for stdout)" });
            RedirectedCommands.AddOrUpdate(c, true);
        }
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Command, object> RedirectedCommands = new();

    private static int InvokeWithOutput(ParseResult parse, CliContext context, Func<int> invoke)
    {
        var command = parse.CommandResult.Command;
        if (!RedirectedCommands.TryGetValue(command, out _)
            || command.Options.FirstOrDefault(o => o.Name == "--output") is not Option<string?> option
            || parse.GetValue(option) is not { } file)
        {
            return invoke();
        }

        var path = Path.GetFullPath(file, context.WorkingDirectory);
        if (Path.GetDirectoryName(path) is { } dir && !Directory.Exists(dir))
        {
            context.Error.WriteLine($"error: cannot write {file}: the directory {dir} does not exist");
            return ExitCodes.UsageOrInputError;
        }

        // A file is not a terminal: no colour, no width, as when piped.
        var (code, text) = Capture(context, invoke, plain: true);
        if (code != ExitCodes.UsageOrInputError)
        {
            File.WriteAllText(path, text, new System.Text.UTF8Encoding(false));
        }

        return code;
    }

    /// <summary>Runs with standard output going to a buffer (and, when <paramref name="plain"/>, as if it were not a terminal).</summary>
    private static (int Code, string Text) Capture(CliContext context, Func<int> invoke, bool plain)
    {
        var (stdout, width, colour) = (context.Out, context.TerminalWidth, context.ColorOutput);
        var buffer = new StringWriter();
        context.Out = buffer;
        if (plain)
        {
            (context.TerminalWidth, context.ColorOutput) = (null, false);
        }

        try
        {
            return (invoke(), buffer.ToString());
        }
        finally
        {
            (context.Out, context.TerminalWidth, context.ColorOutput) = (stdout, width, colour);
        }
    }

    /// <summary>--version: one line, without loading the data files (fast; `skjold version` has the rest).</summary>
    private sealed class ShortVersion(CliContext context) : System.CommandLine.Invocation.SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            var v = VersionCommand.Short();
            context.Out.WriteLine(v);
            return ExitCodes.Ok;
        }
    }

    /// <summary>Format names a user may give to -f, with the one each command knows it by.</summary>
    private static readonly Dictionary<string, string> FormatAliases = new(StringComparer.Ordinal) { ["md"] = "markdown", ["yml"] = "yaml" };

    /// <summary>Values of -o that are format names (kubectl's -o json): never written as a file of that name.</summary>
    private static readonly HashSet<string> FormatNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "json", "yaml", "yml", "wide", "table", "markdown", "md", "csv", "sarif", "junit", "html", "dot", "policyreport", "name", "text",
    };

    public static int Run(string[] args, CliContext context)
    {
        if (args is ["scan" or "report" or "rbac" or "netpol", ..])
        {
            // These read the embedded data files: parse them on the other core while the command line is.
            EngineData.WarmUp();
        }

        var root = Build(context);
        args = NormalizeFormats(args);

        // -f yaml where a command writes JSON: run it as JSON and convert what it printed.
        var yaml = false;
        if (FormatIndex(args) is { } fi && args[fi] is "yaml" or "--format=yaml")
        {
            var asJson = (string[])args.Clone();
            asJson[fi] = asJson[fi] == "yaml" ? "json" : "--format=json";
            if (root.Parse(args).Errors.Count > 0 && root.Parse(asJson).Errors.Count == 0)
            {
                (args, yaml) = (asJson, true);
            }
        }

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // One line: a mistyped word first (with what it probably meant), else the parser's first complaint.
            var first = parse.Errors.FirstOrDefault(e => Unrecognized(e) is not null) ?? parse.Errors[0];
            context.Error.WriteLine(Unrecognized(first) is { } token
                ? $"error: unknown {(token.StartsWith('-') ? "option" : parse.CommandResult.Command.Subcommands.Count > 0 ? "command" : "argument")} '{token}'{Suggestion(first, parse)}"
                : $"error: {first.Message}");

            context.Error.WriteLine("Run 'skjold --help' or 'skjold <command> --help' for usage.");
            return ExitCodes.UsageOrInputError;
        }

        if (parse.CommandResult.Children.OfType<OptionResult>().FirstOrDefault(o => o.Option.Name == "--output" && o.Tokens.Count == 1) is { } output)
        {
            var value = output.Tokens[0].Value;
            if (FormatNames.Contains(value) && !File.Exists(Path.Combine(context.WorkingDirectory, value)))
            {
                var hint = parse.CommandResult.Command.Options.Any(o => o.Name == "--format")
                    ? $"did you mean '-f {(FormatAliases.TryGetValue(value.ToLowerInvariant(), out var canonical) ? canonical : value.ToLowerInvariant())}'? "
                    : string.Empty;
                context.Error.WriteLine($"error: -o/--output takes a file name, not a format: {hint}(to write a file called '{value}', give ./{value})");
                return ExitCodes.UsageOrInputError;
            }

            if (value == "-")
            {
                if (output.Option.Required)
                {
                    context.Error.WriteLine($"error: '{parse.CommandResult.Command.Name}' writes a file; -o - (stdout) is not supported here");
                    return ExitCodes.UsageOrInputError;
                }

                // -o - is stdout, the default: parse again without it.
                parse = root.Parse(WithoutStdoutOutput(args));
            }
        }

        context.ColorOutput = context.Globals!.Colour(parse, context.ColorOutput);
        try
        {
            var final = parse;
            if (final.Action is System.CommandLine.Help.HelpAction && final.CommandResult.Command.Parents.OfType<Command>().FirstOrDefault() is { Arguments.Count: > 0 } parent)
            {
                return SubcommandHelp(final, parent, context);
            }

            int Invoke() => final.Invoke(new InvocationConfiguration { Output = context.Out, Error = context.Error, EnableDefaultExceptionHandler = false });
            // A command's own -o file (scan, report, ...) is converted after the command wrote it.
            var ownFile = yaml && !RedirectedCommands.TryGetValue(parse.CommandResult.Command, out _)
                && parse.CommandResult.Children.OfType<OptionResult>().FirstOrDefault(o => o.Option.Name == "--output" && o.Tokens.Count == 1) is { } own
                ? Path.GetFullPath(own.Tokens[0].Value, context.WorkingDirectory) : null;
            return InvokeWithOutput(parse, context, yaml ? () => AsYaml(context, Invoke, ownFile) : Invoke);
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

    /// <summary>
    /// Help of a subcommand whose parent takes arguments (report keygen, report verify): the parser
    /// would show the parent's arguments in the subcommand's usage, which the subcommand does not take.
    /// </summary>
    private static int SubcommandHelp(ParseResult parse, Command parent, CliContext context)
    {
        var buffer = new StringWriter();
        var code = parse.Invoke(new InvocationConfiguration { Output = buffer, Error = context.Error, EnableDefaultExceptionHandler = false });
        var own = parse.CommandResult.Command.Arguments.Select(a => a.Name).ToHashSet(StringComparer.Ordinal);
        var lines = new List<string>();
        foreach (var line in buffer.ToString().Split('\n'))
        {
            var l = line;
            foreach (var a in parent.Arguments.Where(a => !own.Contains(a.Name)))
            {
                l = l.Replace($" [<{a.Name}>...]", string.Empty, StringComparison.Ordinal).Replace($" <{a.Name}>...", string.Empty, StringComparison.Ordinal)
                    .Replace($" [<{a.Name}>]", string.Empty, StringComparison.Ordinal).Replace($" <{a.Name}>", string.Empty, StringComparison.Ordinal);
                if (line.TrimStart().StartsWith($"<{a.Name}>", StringComparison.Ordinal))
                {
                    l = null!;
                    break;
                }
            }

            if (l is not null)
            {
                lines.Add(l);
            }
        }

        // An Arguments section left empty goes too.
        var text = string.Join('\n', lines).Replace("Arguments:\n\nOptions:", "Options:", StringComparison.Ordinal);
        context.Out.Write(text);
        return code;
    }

}
