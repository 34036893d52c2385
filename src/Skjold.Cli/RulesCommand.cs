using System.CommandLine;
using System.Text.Json.Nodes;
using Skjold.Detection.Falco;
using Skjold.Detection.Skjold;

namespace Skjold.Cli;

/// <summary><c>skjold rules list|lint</c>: what a set of Falco rule files holds, and whether it loads.</summary>
internal static class RulesCommand
{
    public static Command Create(CliContext context)
    {
        var rules = new Command("rules", "Detection rules (Falco rule files for the k8s_audit source, and Skjold's own with --builtin): list what they hold, lint them (load and compile every rule as skjold detect would), or test them against cases.");
        rules.Subcommands.Add(List(context));
        rules.Subcommands.Add(Lint(context));
        rules.Subcommands.Add(Test(context));
        return rules;
    }

    /// <summary>--rules, --builtin and --config: where a command's rules come from.</summary>
    internal sealed class Sources
    {
        public Option<string[]> Files { get; } = new("--rules", "-r") { Description = "Falco rule files for the k8s_audit source, loaded in order (later files append to and override earlier ones)", AllowMultipleArgumentsPerToken = true };

        public Option<bool> Builtin { get; } = new("--builtin") { Description = "Also run Skjold's own detections (its shipped rule file and stateful rules; on by default when skjold.yaml has a detection: section)" };

        public Option<string?> Config { get; } = new("--config", "-c") { Description = "Configuration file (skjold.yaml) whose detection: section sets thresholds, lists and exceptions (default: ./skjold.yaml when present)" };

        public void AddTo(Command c)
        {
            c.Options.Add(Files);
            c.Options.Add(Builtin);
            c.Options.Add(Config);
        }

        /// <summary>The engine; null after one-line errors (including "no rules at all").</summary>
        public DetectionEngine? Load(ParseResult parse, CliContext context, NamespaceLabelSource? labels = null)
        {
            if (!TryLoadEngine(parse.GetValue(Files) ?? [], parse.GetValue(Builtin), parse.GetValue(Config), context, out var engine, labels is null ? null : labels.Get))
            {
                return null;
            }

            if (engine is null)
            {
                context.Error.WriteLine("error: no rules: give --rules FILE..., or --builtin for Skjold's own detections");
            }

            return engine;
        }
    }

    /// <summary>
    /// The rules a command runs: Skjold's own detections (with <paramref name="builtin"/>, or when the
    /// configuration has a detection: section that does not switch them off) loaded first, so rule
    /// files can append to their lists, then <paramref name="files"/>. False after one-line errors;
    /// true with a null engine when nothing was asked for.
    /// </summary>
    internal static bool TryLoadEngine(IReadOnlyCollection<string> files, bool builtin, string? configPath, CliContext context, out DetectionEngine? engine,
        Func<string, IReadOnlyDictionary<string, string>?>? namespaceLabels = null)
    {
        engine = null;
        if (!ConfigLoader.TryLoadDetection(configPath, context.WorkingDirectory, context.Error, out var settings))
        {
            return false;
        }

        try
        {
            engine = DetectionRules.Build(DetectionRules.Effective(settings, builtin),
                files.Select(f => (f, (Func<string>)(() => File.ReadAllText(Path.GetFullPath(f, context.WorkingDirectory))))), namespaceLabels);
        }
        catch (Exception ex) when (ex is RuleLoadException or IOException or UnauthorizedAccessException)
        {
            context.Error.WriteLine($"error: {ex.Message}");
            return false;
        }

        foreach (var warning in engine is null ? [] : engine.Warnings.Concat(engine.ExpiredExceptions(context.Time.GetUtcNow())))
        {
            context.Error.WriteLine($"warning: {warning}");
        }

        return true;
    }

    private static Command List(CliContext context)
    {
        var sources = new Sources();
        var format = new Option<string>("--format", "-f") { Description = "table or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var command = new Command("list", "List the rules: name, priority, source, enabled and tags (after append and override), and Skjold's stateful rules with --builtin.") { format };
        sources.AddTo(command);
        command.SetAction(parse =>
        {
            if (sources.Load(parse, context) is not { } engine)
            {
                return ExitCodes.UsageOrInputError;
            }

            var rows = DetectionRules.List(engine);
            if (parse.GetValue(format) == "json")
            {
                context.Out.WriteLine(Summary.Json(DetectionRules.ListJson(rows)));
                return ExitCodes.Ok;
            }

            foreach (var r in rows)
            {
                context.Out.WriteLine(DetectionRules.ListLine(r));
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Lint(CliContext context)
    {
        var sources = new Sources();
        var command = new Command("lint", "Load and compile every k8s_audit rule; an unsupported construct or a broken condition is an error naming file, line and rule.");
        sources.AddTo(command);
        command.SetAction(parse =>
        {
            if (sources.Load(parse, context) is not { } engine)
            {
                return ExitCodes.UsageOrInputError;
            }

            context.Out.WriteLine(DetectionRules.LintSummary(engine));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Test(CliContext context)
    {
        var sources = new Sources();
        var cases = new Argument<string[]>("CASES") { Description = "Rule test files: cases of audit events and the alerts expected (see docs/detection.md)", Arity = ArgumentArity.OneOrMore };
        var format = new Option<string>("--format", "-f") { Description = "table or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var command = new Command("test", """
            Run rules over test cases and compare the alerts with those expected, as a CI step beside the rules.
            Examples:
              skjold rules test tests/rules.yaml -r my_rules.yaml
              skjold rules test tests/skjold.yaml --builtin --config skjold.yaml
            Exit codes: 0 every case passed; 1 a case failed; 2 a rule or test file cannot be loaded.
            """) { cases, format };
        sources.AddTo(command);
        command.SetAction(parse =>
        {
            if (sources.Load(parse, context) is null)
            {
                return ExitCodes.UsageOrInputError;
            }

            var quiet = new CliContext { Error = TextWriter.Null, WorkingDirectory = context.WorkingDirectory, Time = context.Time };
            DetectionEngine Fresh() => sources.Load(parse, quiet)!; // each case starts from empty state
            var all = new List<RuleTestResult>();
            foreach (var file in parse.GetValue(cases)!)
            {
                var path = Path.GetFullPath(file, context.WorkingDirectory);
                try
                {
                    all.AddRange(RuleTests.Run(RuleTests.Parse(File.ReadAllText(path), file, Path.GetDirectoryName(path)!), Fresh, context.Time.GetUtcNow()));
                }
                catch (Exception ex) when (ex is RuleLoadException or IOException or UnauthorizedAccessException)
                {
                    context.Error.WriteLine($"error: {ex.Message}");
                    return ExitCodes.UsageOrInputError;
                }
            }

            var failed = all.Count(r => !r.Passed);
            if (parse.GetValue(format) == "json")
            {
                context.Out.WriteLine(Summary.Json(DetectionRules.TestJson(all)));
            }
            else
            {
                foreach (var r in all)
                {
                    context.Out.WriteLine(DetectionRules.TestLine(r));
                }

                context.Out.WriteLine($"{all.Count - failed}/{all.Count} cases passed");
            }

            return failed == 0 ? ExitCodes.Ok : ExitCodes.Findings;
        });
        return command;
    }
}
