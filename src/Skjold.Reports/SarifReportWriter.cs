using System.Text.Encodings.Web;
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
    public void Write(ReportContext context, TextWriter output)
    {
        var result = context.Result;
        var ruleIds = result.Findings.Select(f => f.CheckId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var ruleIndex = ruleIds.Select((id, i) => (id, i)).ToDictionary(x => x.id, x => x.i, StringComparer.Ordinal);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
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

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();

            w.WriteStartArray("results");
            foreach (var f in result.Findings)
            {
                w.WriteStartObject();
                w.WriteString("ruleId", f.CheckId);
                w.WriteNumber("ruleIndex", ruleIndex[f.CheckId]);
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
            }

            w.WriteEndArray();

            w.WriteStartArray("invocations");
            w.WriteStartObject();
            w.WriteBoolean("executionSuccessful", !result.HasErrors);
            w.WriteStartArray("toolExecutionNotifications");
            foreach (var d in result.Diagnostics)
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
        }

        output.Write(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
        output.WriteLine();
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
