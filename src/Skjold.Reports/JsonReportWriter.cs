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

    public IReportStream Begin(ReportContext context, TextWriter output) => new Stream(context, output);

    private sealed class Stream : IReportStream
    {
        private readonly ReportContext _context;
        private readonly TextWriter _output;
        private readonly JsonTextOutput _json;

        public Stream(ReportContext context, TextWriter output)
        {
            _context = context;
            _output = output;
            _json = new JsonTextOutput(output);
            var w = _json.Writer;
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
            w.WriteStartArray("findings");
        }

        public void Add(Finding finding)
        {
            var w = _json.Writer;
            w.WriteStartObject();
            WriteFinding(w, finding, _context);
            w.WriteEndObject();
            _json.MaybeFlush();
        }

        public void Complete(ScanTotals totals, IReadOnlyList<SuppressedFinding> suppressed, IReadOnlyList<Diagnostic> diagnostics, IReadOnlyList<string>? evaluatedChecks)
        {
            var w = _json.Writer;
            w.WriteEndArray();
            w.WriteStartArray("suppressed");
            foreach (var s in suppressed)
            {
                w.WriteStartObject();
                WriteFinding(w, s.Finding, _context);
                w.WriteString("reason", s.Reason);
                w.WriteString("source", s.Source);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("diagnostics");
            foreach (var d in diagnostics)
            {
                w.WriteStartObject();
                w.WriteString("level", d.Level == DiagnosticLevel.Error ? "error" : "warning");
                w.WriteString("code", d.Code);
                w.WriteString("message", d.Message);
                WriteLocation(w, d.Location);
                w.WriteEndObject();
            }

            w.WriteEndArray();

            // The summary comes last: it is counted while the findings stream past.
            w.WriteStartObject("summary");
            w.WriteNumber("resources", totals.Resources);
            w.WriteNumber("findings", totals.Findings);
            w.WriteNumber("suppressed", totals.Suppressed);
            w.WriteNumber("errors", diagnostics.Count(d => d.Level == DiagnosticLevel.Error));
            w.WriteStartObject("bySeverity");
            foreach (var sev in Enum.GetValues<Severity>().Reverse())
            {
                w.WriteNumber(sev.ToName(), totals.Count(sev));
            }

            w.WriteEndObject();
            w.WriteEndObject();
            if (evaluatedChecks is { } evaluated)
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
            _json.Flush();
            _output.WriteLine();
        }

        public void Dispose() => _json.Dispose();
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
