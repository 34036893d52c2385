using System.Text.Encodings.Web;
using System.Text.Json;
using Skjold.Engine.Model;
using Skjold.Engine.Pss;

namespace Skjold.Reports;

/// <summary>
/// The stable JSON output (schema version 1, documented in docs/output.md): top-level
/// <c>findings</c>, <c>suppressed</c>, <c>diagnostics</c> and <c>summary</c>.
/// </summary>
public sealed class JsonReportWriter : IReportWriter
{
    public const string SchemaVersion = "1";

    public void Write(ReportContext context, TextWriter output)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            var result = context.Result;
            w.WriteStartObject();
            w.WriteString("schemaVersion", SchemaVersion);
            w.WriteStartObject("tool");
            w.WriteString("name", "skjold");
            w.WriteString("version", context.ToolVersion);
            w.WriteEndObject();
            w.WriteString("generatedAt", context.GeneratedAt.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteStartObject("policy");
            w.WriteString("pssLevel", context.Policy.PssLevel.ToName());
            w.WriteString("pssVersion", context.Policy.PssVersion.ToString());
            if (context.Policy.Source is { } src)
            {
                w.WriteString("config", src);
            }
            else
            {
                w.WriteNull("config");
            }

            w.WriteEndObject();

            w.WriteStartObject("summary");
            w.WriteNumber("resources", result.ResourceCount);
            w.WriteNumber("findings", result.Findings.Count);
            w.WriteNumber("suppressed", result.Suppressed.Count);
            w.WriteNumber("errors", result.Diagnostics.Count(d => d.Level == DiagnosticLevel.Error));
            w.WriteStartObject("bySeverity");
            foreach (var s in Enum.GetValues<Severity>().Reverse())
            {
                w.WriteNumber(s.ToName(), result.Findings.Count(f => f.Severity == s));
            }

            w.WriteEndObject();
            w.WriteEndObject();

            w.WriteStartArray("findings");
            foreach (var f in result.Findings)
            {
                w.WriteStartObject();
                WriteFinding(w, f, context);
                w.WriteEndObject();
            }

            w.WriteEndArray();

            w.WriteStartArray("suppressed");
            foreach (var s in result.Suppressed)
            {
                w.WriteStartObject();
                WriteFinding(w, s.Finding, context);
                w.WriteString("reason", s.Reason);
                w.WriteString("source", s.Source);
                w.WriteEndObject();
            }

            w.WriteEndArray();

            w.WriteStartArray("diagnostics");
            foreach (var d in result.Diagnostics)
            {
                w.WriteStartObject();
                w.WriteString("level", d.Level == DiagnosticLevel.Error ? "error" : "warning");
                w.WriteString("code", d.Code);
                w.WriteString("message", d.Message);
                WriteLocation(w, d.Location);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            if (result.EvaluatedChecks is { } evaluated)
            {
                // Checks that applied to the input (some node checks do not, on a node without the component).
                w.WriteStartArray("evaluatedChecks");
                foreach (var id in evaluated)
                {
                    w.WriteStringValue(id);
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        }

        output.Write(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
        output.WriteLine();
    }

    private static void WriteFinding(Utf8JsonWriter w, Finding f, ReportContext context)
    {
        w.WriteString("checkId", f.CheckId);
        w.WriteString("title", context.Catalog.TryGet(f.CheckId, out var m) ? m.Title : f.CheckId);
        w.WriteString("severity", f.Severity.ToName());
        w.WriteStartObject("resource");
        w.WriteString("apiVersion", f.Resource.ApiVersion);
        w.WriteString("kind", f.Resource.Kind);
        if (f.Resource.Namespace is { } ns)
        {
            w.WriteString("namespace", ns);
        }
        else
        {
            w.WriteNull("namespace");
        }

        w.WriteString("name", f.Resource.Name);
        w.WriteEndObject();
        w.WriteString("path", f.Path);
        w.WriteString("message", f.Message);
        w.WriteString("remediation", f.Remediation);
        WriteLocation(w, f.Location);
    }

    private static void WriteLocation(Utf8JsonWriter w, SourceLocation? location)
    {
        if (location is not { } l)
        {
            w.WriteNull("location");
            return;
        }

        w.WriteStartObject("location");
        w.WriteString("file", l.File);
        w.WriteNumber("line", l.Line);
        if (l.Column > 0)
        {
            w.WriteNumber("column", l.Column);
        }

        w.WriteEndObject();
    }
}
