using System.CommandLine;
using System.Diagnostics;
using Skjold.Engine;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;
using Skjold.Engine.Policy;
using Skjold.Engine.Pss;
using Skjold.Kubernetes.Loading;
using Skjold.Reports;

namespace Skjold.Cli;

/// <summary><c>skjold scan PATH... | -</c>: checks manifests, Helm output and kubectl dumps.</summary>
internal static class ScanCommand
{
    public static Command Create(CliContext context)
    {
        var paths = new Argument<string[]>("PATH")
        {
            Description = "Files or directories to scan (recursively: .yaml, .yml, .json), or - to read stdin",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var format = new Option<string>("--format", "-f")
        {
            Description = "Output format: table, wide (the table with each finding's path in the object), json, sarif or junit",
            DefaultValueFactory = _ => "table",
        };
        format.AcceptOnlyFromAmong("table", "wide", "json", "sarif", "junit");
        var output = new Option<string?>("--output", "-o") { Description = "Write the report to this file instead of stdout" };
        var failOn = new Option<string>("--fail-on")
        {
            Description = "Exit with 1 when a finding has this severity or higher (info < low < medium < high < critical)",
            DefaultValueFactory = _ => "low",
            HelpName = "info|low|medium|high|critical",
        };
        failOn.AcceptOnlyFromAmong("info", "low", "medium", "high", "critical");
        var pssLevel = new Option<string?>("--pss-level") { Description = "Pod Security Standards level: baseline or restricted (default from config, else restricted); privileged turns PSS checks off" };
        pssLevel.AcceptOnlyFromAmong("privileged", "baseline", "restricted");
        var pssVersion = new Option<string?>("--pss-version") { Description = $"Pod Security Standards version: v1.0 to v1.{PssVersion.NewestKnownMinor}, or latest (default from config, else latest)" };
        var config = new Option<string?>("--config", "-c") { Description = "Configuration file (default: skjold.yaml or .skjold.yaml in the working directory if present)" };
        var maxFileSize = new Option<string>("--max-file-size")
        {
            Description = "Largest input file accepted, for example 32MiB",
            DefaultValueFactory = _ => "32MiB",
        };
        var severity = new Option<string?>("--severity")
        {
            Description = "Show only findings of these severities, comma-separated (critical,high); counts and --fail-on still cover every finding",
        };
        var stdinName = new Option<string?>("--stdin-name")
        {
            Description = "The path to report for input read from stdin (-), for example the chart it was rendered from (default: stdin in SARIF, - elsewhere)",
        };
        var live = new Option<bool>("--cluster") { Description = "Scan the live cluster through the Kubernetes API (kubeconfig or in-cluster) instead of files" };
        var verifyImages = new Option<bool>("--verify-images") { Description = "Also run the supply-chain checks of skjold.yaml's supplyChain: section: verify each image's signatures in its registry and match its digest to the known scan results (needs network access to the registries)" };
        var cluster = new ClusterOptions();
        var scope = new InputScope();

        var command = new Command("scan", "Scan Kubernetes manifests, Helm or kustomize output and kubectl dumps for security and compliance findings.\n" + ExitCodes.HelpText)
        {
            paths, format, output, failOn, pssLevel, pssVersion, config, maxFileSize, severity, live, stdinName, verifyImages,
        };
        cluster.AddTo(command);
        scope.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            if (!scope.TryRead(parse, context, out var defaultNamespace, out var kubeMinor))
            {
                return ExitCodes.UsageOrInputError;
            }

            LoadResult? preloaded = null;
            if (parse.GetValue(live))
            {
                if (parse.GetValue(paths) is { Length: > 0 })
                {
                    await context.Error.WriteLineAsync("error: give either --cluster or paths to scan, not both").ConfigureAwait(false);
                    return ExitCodes.UsageOrInputError;
                }

                if (await cluster.TryReadAsync(parse, context, scope.Given(parse), ct).ConfigureAwait(false) is not { } read)
                {
                    return ExitCodes.UsageOrInputError;
                }

                preloaded = read.Loaded;
            }

            return Run(
            new ScanRequest(
                parse.GetValue(paths) ?? [],
                parse.GetValue(format)!,
                parse.GetValue(output),
                parse.GetValue(failOn)!,
                parse.GetValue(pssLevel),
                parse.GetValue(pssVersion),
                parse.GetValue(config),
                parse.GetValue(maxFileSize)!,
                parse.GetValue(severity),
                defaultNamespace,
                kubeMinor,
                parse.GetValue(scope.AllowEmpty),
                parse.GetValue(stdinName),
                GlobalOptions.Quiet(parse),
                parse.GetValue(verifyImages)),
            context,
            preloaded);
        });
        return command;
    }

    internal static int Run(ScanRequest request, CliContext context, LoadResult? preloaded = null)
    {
        var err = context.Error;
        if (request.Paths.Length == 0 && preloaded is null)
        {
            err.WriteLine("error: give at least one file or directory to scan, or - to read from stdin (see skjold scan --help)");
            return ExitCodes.UsageOrInputError;
        }

        if (request.Paths.FirstOrDefault(p => p.Length > 1 && p.StartsWith('-')) is { } unknown)
        {
            err.WriteLine($"error: unknown option '{unknown}' (see skjold scan --help)");
            return ExitCodes.UsageOrInputError;
        }

        if (!SizeParser.TryParse(request.MaxFileSize, out var maxBytes))
        {
            err.WriteLine($"error: --max-file-size '{request.MaxFileSize}' is not a size such as 32MiB or 1048576");
            return ExitCodes.UsageOrInputError;
        }

        if (!ConfigLoader.TryLoad(request.Config, context.WorkingDirectory, err, out var policy))
        {
            return ExitCodes.UsageOrInputError;
        }

        if (!PssOverride.TryApply(policy, request.PssLevel, request.PssVersion, out policy, out var pssProblem))
        {
            err.WriteLine($"error: {pssProblem}");
            return ExitCodes.UsageOrInputError;
        }

        policy = policy.With(kubeMinor: request.KubeMinor ?? policy.KubeMinor, defaultNamespace: request.DefaultNamespace);
        SeverityNames.TryParse(request.FailOn, out var failOn);

        var stopwatch = Stopwatch.StartNew();
        var loader = new ManifestLoader(new LoaderOptions { MaxFileBytes = maxBytes, DefaultNamespace = request.DefaultNamespace });
        var resolved = request.Paths.Select(p => p == ManifestLoader.StdinName ? p : Path.GetFullPath(p, context.WorkingDirectory)).ToList();
        var loaded = preloaded ?? loader.LoadPaths(resolved, context.Stdin);
        var resources = loaded.Resources;
        var diagnostics = loaded.Diagnostics.Select(d => SourcePaths.Relativize(d, context.WorkingDirectory)).ToList();
        if (resources.Count == 0 && !request.AllowEmpty)
        {
            // An empty stdin or file is what a failed `helm template ... | skjold scan -` sends: never green.
            InputFiles.WriteDiagnostics(err, diagnostics);

            err.WriteLine(InputFiles.NoObjects(loaded.HasErrors));
            return ExitCodes.UsageOrInputError;
        }

        HashSet<Severity>? shown = null;
        if (request.Severity is { Length: > 0 } only && !SeverityNames.TryParseList(only, out shown, out var unknownSeverity))
        {
            err.WriteLine($"error: --severity '{unknownSeverity}' is not a severity (info < low < medium < high < critical)");
            return ExitCodes.UsageOrInputError;
        }

        IReadOnlyList<Finding> hostFindings = [];
        if (request.VerifyImages)
        {
            if (SupplyChainScan.Collect(request.Config, resources, context) is not { } external)
            {
                return ExitCodes.UsageOrInputError;
            }

            hostFindings = external.Findings;
        }

        var scanner = new Scanner(policy, CheckCatalog.Default, context.Time);
        var reportContext = new ReportContext(new ScanResult([], [], [], resources.Count), policy, CheckCatalog.Default, CliContext.Version, context.Time.GetUtcNow(), context.WorkingDirectory)
        {
            StdinName = request.StdinName is { Length: > 0 } n ? n : "stdin",
        };
        var writer = ReportWriters.For(request.Format, new TableOptions
        {
            Color = request.Output is null && context.ColorOutput,
            Width = request.Output is null ? context.TerminalWidth : null,
        });

        var totals = new ScanTotals();
        List<Diagnostic> allDiagnostics = diagnostics;
        void Run(TextWriter output)
        {
            // Large inputs show how far the scan is (stderr; plain lines when it is not a terminal).
            var line = resources.Count >= ProgressLine.LargeInput && !request.Quiet ? new ProgressLine(context, false) : null;
            var report = new ScanReport(scanner, writer, reportContext, context.WorkingDirectory)
            {
                StdinName = request.StdinName,
                Shown = shown,
                HostFindings = hostFindings,
                Progress = line?.Of<int>(n => $"scanned {n:N0} of {resources.Count:N0} resources..."),
            };
            (totals, allDiagnostics) = report.Write(resources, diagnostics, output);
            line?.Done();
        }

        if (request.Output is { } outputPath)
        {
            if (!OutputFile.TryWrite(context, outputPath, Run))
            {
                return ExitCodes.UsageOrInputError;
            }

            stopwatch.Stop();
            if (!request.Quiet)
            {
                err.WriteLine($"Wrote {request.Format} report to {outputPath}: {totals.Findings} findings in {totals.Resources} resources ({stopwatch.ElapsedMilliseconds} ms).");
            }
        }
        else
        {
            Run(context.Out);
        }

        if (request.Format is not ("table" or "wide") || request.Output is not null)
        {
            // Machine formats keep stdout clean; input problems still reach the user on stderr.
            InputFiles.WriteDiagnostics(err, allDiagnostics);
        }

        if (allDiagnostics.Any(d => d.Level == DiagnosticLevel.Error))
        {
            return ExitCodes.UsageOrInputError;
        }

        return totals.CountAtOrAbove(failOn!.Value) > 0 ? ExitCodes.Findings : ExitCodes.Ok;
    }
}
