using System.Text.Json;
using Skjold.Engine.Model;

namespace Skjold.Reports;

/// <summary>
/// SARIF 2.1.0 for code-scanning services: one rule per check with a security-severity, one
/// result per finding with the file (relative to the base directory, so that GitHub maps it to
/// the repository) and the line and column of the offending field.
/// </summary>
public sealed class SarifReportWriter : IReportWriter
{
    public IReportStream Begin(ReportContext context, TextWriter output) => new Stream(context, output);

    private sealed class Stream : IReportStream
    {
        private readonly ReportContext _context;
        private readonly TextWriter _output;
        private readonly JsonTextOutput _json;
        private readonly Dictionary<string, int> _ruleIndex;

        public Stream(ReportContext context, TextWriter output)
        {
            _context = context;
            _output = output;
            _json = new JsonTextOutput(output);

            // Every check the policy runs is a rule (the results stream past, so which ones fire is not known yet).
            var ruleIds = context.Catalog.All.Where(m => context.Policy.IsEnabled(m)).Select(m => m.Id).Order(StringComparer.Ordinal).ToList();
            _ruleIndex = ruleIds.Select((id, i) => (id, i)).ToDictionary(x => x.id, x => x.i, StringComparer.Ordinal);
            var w = _json.Writer;
            w.WriteStartObject();
            w.WriteString("$schema", "https://json.schemastore.org/sarif-2.1.0.json");
            w.WriteString("version", "2.1.0");
            w.WriteStartArray("runs");
            w.WriteStartObject();
            w.WriteStartObject("tool");
            w.WriteStartObject("driver");
            w.WriteString("name", "Skjold");
            w.WriteString("semanticVersion", context.ToolVersion);
            w.WriteString("informationUri", "https://github.com/skjold-dev/skjold");
            w.WriteStartArray("rules");
            foreach (var id in ruleIds)
            {
                WriteRule(w, id, context);
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartArray("results");
        }

        public void Add(Finding f)
        {
            var w = _json.Writer;
            var context = _context;
            w.WriteStartObject();
            w.WriteString("ruleId", f.CheckId);
            if (_ruleIndex.TryGetValue(f.CheckId, out var index))
            {
                w.WriteNumber("ruleIndex", index);
            }

            w.WriteString("level", Level(f.Severity));
            w.WriteStartObject("message");
            w.WriteString("text", $"{f.Resource}: {f.Message}");
            w.WriteEndObject();
            w.WriteStartArray("locations");
            w.WriteStartObject();
            if (f.Location is { } l)
            {
                // Every result needs a physical location for code scanning: stdin gets a stable
                // pseudo-path; a file outside the source root is an absolute file: URI, which
                // takes no uriBaseId (SARIF1004).
                var (uri, relative) = Uri(l.File, context);
                w.WriteStartObject("physicalLocation");
                w.WriteStartObject("artifactLocation");
                w.WriteString("uri", uri);
                if (relative)
                {
                    w.WriteString("uriBaseId", "%SRCROOT%");
                }

                w.WriteEndObject();
                w.WriteStartObject("region");
                w.WriteNumber("startLine", Math.Max(1, l.Line));
                if (l.Column > 0)
                {
                    w.WriteNumber("startColumn", l.Column);
                }

                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteStartArray("logicalLocations");
            w.WriteStartObject();
            w.WriteString("fullyQualifiedName", $"{f.Resource}:{f.Path}");
            w.WriteString("kind", "resource");
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteStartObject("partialFingerprints");
            w.WriteString("skjoldFinding/v2", $"{f.CheckId}|{(f.Location is { } fl ? Uri(fl.File, context).Uri : string.Empty)}|{f.Resource.Kind}|{f.Resource.Namespace}|{f.Resource.Name}|{f.Path}");
            w.WriteEndObject();
            w.WriteEndObject();
            _json.MaybeFlush();
        }

        public void Complete(ScanTotals totals, IReadOnlyList<SuppressedFinding> suppressed, IReadOnlyList<Diagnostic> diagnostics, IReadOnlyList<string>? evaluatedChecks)
        {
            var w = _json.Writer;
            w.WriteEndArray();
            w.WriteStartArray("invocations");
            w.WriteStartObject();
            w.WriteBoolean("executionSuccessful", !diagnostics.Any(d => d.Level == DiagnosticLevel.Error));
            w.WriteStartArray("toolExecutionNotifications");
            foreach (var d in diagnostics)
            {
                w.WriteStartObject();
                w.WriteString("level", d.Level == DiagnosticLevel.Error ? "error" : "warning");
                w.WriteStartObject("message");
                w.WriteString("text", d.Message);
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
            _json.Flush();
            _output.WriteLine();
        }

        public void Dispose() => _json.Dispose();
    }

    private static void WriteRule(Utf8JsonWriter w, string id, ReportContext context)
    {
        var m = context.Catalog[id];
        var severity = context.Policy.SeverityOf(m);
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("name", RuleName(id));
        w.WriteStartObject("shortDescription");
        w.WriteString("text", m.Title);
        w.WriteEndObject();
        w.WriteStartObject("fullDescription");
        w.WriteString("text", m.Description);
        w.WriteEndObject();
        w.WriteStartObject("help");
        w.WriteString("text", m.Remediation);
        w.WriteString("markdown", $"**{m.Title}**\n\n{m.Description}\n\n**Fix:** {m.Remediation}");
        w.WriteEndObject();
        w.WriteStartObject("defaultConfiguration");
        w.WriteString("level", Level(severity));
        w.WriteEndObject();
        w.WriteStartObject("properties");
        w.WriteString("security-severity", SecuritySeverity(severity));
        w.WriteStartArray("tags");
        w.WriteStringValue("security");
        w.WriteStringValue("kubernetes");
        if (m.Category.Length > 0)
        {
            w.WriteStringValue(m.Category);
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>The SARIF artifact URI of a finding's file, and whether it is relative to %SRCROOT%.</summary>
    internal static (string Uri, bool Relative) Uri(string file, ReportContext context)
    {
        if (file == "-")
        {
            return (RelativeUri(context.StdinName, null), true);
        }

        if (Path.IsPathRooted(file) && (context.BaseDirectory is null || Path.GetRelativePath(context.BaseDirectory, file).StartsWith("..", StringComparison.Ordinal)))
        {
            return (new System.Uri(file).AbsoluteUri, false);
        }

        return (RelativeUri(file, context.BaseDirectory), true);
    }

    /// <summary>A file path as a SARIF URI relative to the base directory, with forward slashes.</summary>
    internal static string RelativeUri(string file, string? baseDirectory)
    {
        var path = file;
        if (baseDirectory is not null && Path.IsPathRooted(file))
        {
            var rel = Path.GetRelativePath(baseDirectory, file);
            if (!rel.StartsWith("..", StringComparison.Ordinal))
            {
                path = rel;
            }
        }

        path = path.Replace('\\', '/');
        if (path.StartsWith("./", StringComparison.Ordinal))
        {
            path = path[2..];
        }

        return System.Uri.EscapeDataString(path).Replace("%2F", "/", StringComparison.Ordinal);
    }

    internal static string Level(Severity s) => s switch
    {
        Severity.Critical or Severity.High => "error",
        Severity.Medium => "warning",
        _ => "note",
    };

    internal static string SecuritySeverity(Severity s) => s switch
    {
        Severity.Critical => "9.5",
        Severity.High => "8.0",
        Severity.Medium => "5.5",
        Severity.Low => "3.0",
        _ => "1.0",
    };

    private static string RuleName(string id)
    {
        var name = id[(id.IndexOf('/', StringComparison.Ordinal) + 1)..];
        var parts = name.Split(['-', '_'], StringSplitOptions.RemoveEmptyEntries);
        return string.Concat(parts.Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
    }
}
