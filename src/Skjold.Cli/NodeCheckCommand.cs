using System.CommandLine;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;
using Skjold.Engine.Node;
using Skjold.Engine.Policy;
using Skjold.Kubernetes.Node;
using Skjold.Reports;

namespace Skjold.Cli;

/// <summary><c>skjold node-check</c>: CIS Kubernetes Benchmark control-plane and node checks on a node's files.</summary>
internal static class NodeCheckCommand
{
    public static Command Create(CliContext context)
    {
        var root = new Option<string>("--root") { Description = "The node's filesystem: / on the node, or a copy of it (for example a host mount at /host)", DefaultValueFactory = _ => "/" };
        var format = new Option<string>("--format", "-f") { Description = "Output format: table, json, sarif or junit", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json", "sarif", "junit");
        var output = new Option<string?>("--output", "-o") { Description = "Write the report to this file instead of stdout" };
        var failOn = new Option<string>("--fail-on") { Description = "Exit with 1 when a failed check has this severity or higher (info < low < medium < high < critical)", DefaultValueFactory = _ => "low", HelpName = "info|low|medium|high|critical" };
        failOn.AcceptOnlyFromAmong("info", "low", "medium", "high", "critical");
        var command = new Command("node-check",
            "Run the CIS Kubernetes Benchmark v1.12 control-plane and node checks (sections 1, 2, 3.2 and 4) on this node's static pod manifests, " +
            "kubelet unit, flags and configuration (including --config and --config-dir in any place), audit policy, encryption configuration and file permissions.\n" + ExitCodes.HelpText)
        {
            root, format, output, failOn,
        };
        command.SetAction(parse =>
        {
            var rootDir = Path.GetFullPath(parse.GetValue(root)!, context.WorkingDirectory);
            if (!Directory.Exists(rootDir))
            {
                context.Error.WriteLine($"error: --root {parse.GetValue(root)}: no such directory");
                return ExitCodes.UsageOrInputError;
            }

            var facts = new NodeReader(rootDir).Read();
            if (facts.Components.Count == 0)
            {
                context.Error.WriteLine($"error: no Kubernetes component found under {parse.GetValue(root)}: looked for {string.Join(", ", NodeReader.SearchedPaths)}; " +
                    "give --root the node's filesystem (on the node /, in a pod the host mounted at, for example, /host)");
                return ExitCodes.UsageOrInputError;
            }

            var results = NodeEvaluator.Evaluate(facts);
            var result = ToScanResult(results, facts, rootDir);
            var policy = ScanPolicy.Default;
            var reportContext = new ReportContext(result, policy, CheckCatalog.Default, CliContext.Version, context.Time.GetUtcNow(), rootDir);
            // The table is the CIS-style text of NodeReportText; the machine formats are the scan's writers.
            IReportWriter? writer = parse.GetValue(format) is "table" ? null : ReportWriters.For(parse.GetValue(format)!);

            var pass = results.Count(r => r.Status == NodeStatus.Pass);
            var fail = results.Count(r => r.Status == NodeStatus.Fail);
            var na = results.Count(r => r.Status == NodeStatus.NotApplicable);
            var summary = $"CIS node checks on {rootDir}: {pass} passed, {fail} failed, {na} not applicable " +
                $"(components found: {(facts.Components.Count == 0 ? "none" : string.Join(", ", facts.Components.Keys.Order(StringComparer.Ordinal)))})";
            var outFile = parse.GetValue(output);
            if (!OutputFile.TryWrite(context, outFile, o => Write(o, outFile is null && context.ColorOutput)))
            {
                return ExitCodes.UsageOrInputError;
            }

            if (outFile is not null)
            {
                context.Error.WriteLine($"Wrote {parse.GetValue(format)} report to {outFile}.");
            }

            void Write(TextWriter to, bool color)
            {
                if (writer is null)
                {
                    NodeReportText.Write(results, CheckCatalog.Default, to, color);
                }
                else
                {
                    writer.Write(reportContext, to);
                }
            }

            if (writer is not null || parse.GetValue(output) is not null)
            {
                context.Error.WriteLine(summary);
            }
            foreach (var note in facts.Notes)
            {
                context.Error.WriteLine($"note: {note}");
            }

            SeverityNames.TryParse(parse.GetValue(failOn), out var threshold);
            return result.CountAtOrAbove(threshold!.Value) > 0 ? ExitCodes.Findings : ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Failed checks as findings on the component or file they concern, so every report format works.</summary>
    internal static ScanResult ToScanResult(IReadOnlyList<NodeCheckResult> results, NodeFacts facts, string root)
    {
        var findings = new List<Finding>();
        foreach (var r in results.Where(r => r.Status == NodeStatus.Fail))
        {
            var meta = CheckCatalog.Default[r.Id];
            var kind = facts.Components.ContainsKey(r.Subject) ? "NodeComponent" : "NodeFile";
            var location = r.File is { } f ? new SourceLocation(Path.Combine(root, f.TrimStart('/')), LineOf(Path.Combine(root, f.TrimStart('/')), r.Setting)) : (SourceLocation?)null;
            findings.Add(new Finding(r.Id, meta.Severity, new ResourceRef("skjold.io/v1alpha1", kind, null, r.Subject), r.Setting ?? "file", r.Evidence, meta.Remediation, location));
        }

        return new ScanResult(findings, [], [], facts.Components.Count + facts.Files.Count)
        {
            EvaluatedChecks = [.. results.Where(r => r.Status != NodeStatus.NotApplicable).Select(r => r.Id)],
        };
    }

    private static int LineOf(string file, string? setting)
    {
        if (setting is null || !File.Exists(file))
        {
            return 1;
        }

        var needle = setting.StartsWith("--", StringComparison.Ordinal) ? setting.Split(' ')[0] : setting.Split('.')[^1];
        var i = 1;
        foreach (var line in File.ReadLines(file))
        {
            if (line.Contains(needle, StringComparison.Ordinal))
            {
                return i;
            }

            i++;
        }

        return 1;
    }
}
