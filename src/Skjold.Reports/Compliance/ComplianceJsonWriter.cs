using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Skjold.Engine.Compliance;
using Skjold.Engine.Model;

namespace Skjold.Reports.Compliance;

/// <summary>The report as JSON: the form a baseline is read from and the bytes an evidence bundle signs.</summary>
public sealed class ComplianceJsonWriter : IComplianceWriter
{
    public static readonly ComplianceJsonWriter Instance = new();

    /// <summary>Streams the report to <paramref name="output"/> as it is written (the same text as <see cref="Text"/>), never whole in memory.</summary>
    public void Write(ComplianceReport report, TextWriter output)
    {
        using var json = new JsonTextOutput(output);
        WriteTo(report, json.Writer, json.MaybeFlush);
        json.Flush();
        output.Write('\n');
    }

    /// <summary>The report as JSON (UTF-8 text); the signed bundle signs exactly these bytes.</summary>
    public static string Text(ComplianceReport r)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            WriteTo(r, w, static () => { });
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void WriteTo(ComplianceReport r, Utf8JsonWriter w, Action written)
    {
        w.WriteStartObject();
        w.WriteNumber("schemaVersion", 1);
        w.WriteString("kind", "SkjoldComplianceReport");
        w.WriteStartObject("framework");
        w.WriteString("id", r.Framework.Id);
        w.WriteString("name", r.Framework.Name);
        w.WriteString("version", r.Framework.Version);
        w.WriteEndObject();
        w.WriteString("generatedAt", ComplianceText.Iso(r.GeneratedAt));
        w.WriteString("toolVersion", r.ToolVersion);
        w.WriteString("inputDigest", r.InputDigest);
        w.WriteStartArray("inputs");
        foreach (var i in r.Inputs)
        {
            w.WriteStringValue(i);
        }

        w.WriteEndArray();
        w.WriteNumber("score", r.Score);
        w.WriteString("scoreFormula", ComplianceReport.ScoreFormula);
        w.WriteStartObject("counts");
        foreach (var s in Enum.GetValues<ControlStatus>())
        {
            w.WriteNumber(ComplianceReport.StatusName(s), r.Count(s));
        }

        w.WriteEndObject();
        w.WriteStartArray("controls");
        foreach (var c in r.Controls)
        {
            w.WriteStartObject();
            w.WriteString("id", c.Control.Id);
            w.WriteString("title", c.Control.Title);
            if (c.Control.Group is { } g)
            {
                w.WriteString("group", g);
            }

            w.WriteString("status", ComplianceReport.StatusName(c.Status));
            w.WriteString("explanation", c.Explanation);
            w.WriteStartArray("checks");
            foreach (var check in c.Checks)
            {
                w.WriteStartObject();
                w.WriteString("id", check.CheckId);
                w.WriteString("title", check.Title);
                w.WriteString("outcome", check.Outcome);
                w.WriteNumber("suppressed", check.Suppressed);
                w.WriteStartArray("findings");
                foreach (var f in check.Findings)
                {
                    w.WriteStartObject();
                    w.WriteString("resource", f.Resource.ToString());
                    w.WriteString("severity", f.Severity.ToName());
                    w.WriteString("message", f.Message);
                    if (f.Location is { } l)
                    {
                        w.WriteString("location", $"{l.File}:{l.Line}");
                    }

                    w.WriteEndObject();
                    written();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            if (c.Attestation is { } a)
            {
                w.WriteStartObject("attestation");
                w.WriteString("by", a.By);
                w.WriteString("date", a.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                w.WriteString("validUntil", a.ValidUntil.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                w.WriteString("evidence", a.Evidence);
                w.WriteString("state", c.AttestationState(ComplianceText.Today(r)));
                if (a.Note is { } note)
                {
                    w.WriteString("note", note);
                }

                w.WriteEndObject();
            }

            if (c.Control.Questions.Count > 0)
            {
                w.WriteStartArray("providerQuestions");
                foreach (var q in c.Control.Questions)
                {
                    w.WriteStringValue(q);
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        if (r.Diff is { } d)
        {
            w.WriteStartObject("diff");
            w.WriteString("baselineGeneratedAt", ComplianceText.Iso(d.BaselineGeneratedAt));
            w.WriteNumber("baselineScore", d.BaselineScore);
            w.WriteNumber("scoreChange", Math.Round(r.Score - d.BaselineScore, 1));
            WriteChanges(w, "better", d.Better);
            WriteChanges(w, "worse", d.Worse);
            WriteChanges(w, "coverageChanged", d.CoverageChanged);
            w.WriteBoolean("inputsDiffer", d.InputsDiffer);
            if (d.BaselineInputDigest is { } bd)
            {
                w.WriteString("baselineInputDigest", bd);
            }

            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    private static void WriteChanges(Utf8JsonWriter w, string name, IEnumerable<(string Control, string Before, string After)> changes)
    {
        w.WriteStartArray(name);
        foreach (var (control, before, after) in changes)
        {
            w.WriteStartObject();
            w.WriteString("control", control);
            w.WriteString("before", before);
            w.WriteString("after", after);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }
}
