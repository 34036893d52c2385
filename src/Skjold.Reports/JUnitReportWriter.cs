using System.Globalization;
using System.Xml;
using Skjold.Engine.Model;

namespace Skjold.Reports;

/// <summary>
/// JUnit XML for CI test views: one test suite per resource with findings, one failed test case
/// per finding, and an error test case per input error.
/// </summary>
public sealed class JUnitReportWriter : IReportWriter
{
    public void Write(ReportContext context, TextWriter output)
    {
        var result = context.Result;
        // A resource is its kind, namespace and name in one file: the same name in dev/ and prod/ is two resources.
        var groups = result.Findings.GroupBy(f => (f.Resource, File: f.Location?.File)).ToList();
        var errors = result.Diagnostics.Where(d => d.Level == DiagnosticLevel.Error).ToList();
        using var xml = XmlWriter.Create(output, new XmlWriterSettings { Indent = true, OmitXmlDeclaration = false, CloseOutput = false });
        xml.WriteStartDocument();
        xml.WriteStartElement("testsuites");
        xml.WriteAttributeString("name", "skjold scan");
        xml.WriteAttributeString("tests", Str(result.Findings.Count + errors.Count));
        xml.WriteAttributeString("failures", Str(result.Findings.Count));
        xml.WriteAttributeString("errors", Str(errors.Count));
        xml.WriteAttributeString("timestamp", context.GeneratedAt.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture));
        foreach (var g in groups)
        {
            xml.WriteStartElement("testsuite");
            var suiteName = g.Key.File is null ? g.Key.Resource.ToString() : $"{g.Key.Resource} ({g.Key.File})";
            xml.WriteAttributeString("name", suiteName);
            xml.WriteAttributeString("tests", Str(g.Count()));
            xml.WriteAttributeString("failures", Str(g.Count()));
            xml.WriteAttributeString("errors", "0");
            foreach (var f in g)
            {
                xml.WriteStartElement("testcase");
                xml.WriteAttributeString("classname", suiteName);
                xml.WriteAttributeString("name", $"{f.CheckId} {f.Path}");

                // The strict JUnit schema (Jenkins xunit) has no file or line on a testcase: the
                // location goes in the failure text.
                xml.WriteStartElement("failure");
                xml.WriteAttributeString("type", f.Severity.ToName());
                xml.WriteAttributeString("message", f.Message);
                xml.WriteString($"{f.Message}\nSeverity: {f.Severity.ToName()}\nLocation: {f.Location}\nRemediation: {f.Remediation}");
                xml.WriteEndElement();
                xml.WriteEndElement();
            }

            xml.WriteEndElement();
        }

        if (errors.Count > 0)
        {
            xml.WriteStartElement("testsuite");
            xml.WriteAttributeString("name", "input");
            xml.WriteAttributeString("tests", Str(errors.Count));
            xml.WriteAttributeString("failures", "0");
            xml.WriteAttributeString("errors", Str(errors.Count));
            foreach (var d in errors)
            {
                xml.WriteStartElement("testcase");
                xml.WriteAttributeString("classname", "input");
                xml.WriteAttributeString("name", d.Location?.ToString() ?? d.Code);
                xml.WriteStartElement("error");
                xml.WriteAttributeString("type", d.Code);
                xml.WriteAttributeString("message", d.Message);
                xml.WriteEndElement();
                xml.WriteEndElement();
            }

            xml.WriteEndElement();
        }

        xml.WriteEndElement();
        xml.WriteEndDocument();
        xml.Flush();
        output.WriteLine();
    }

    private static string Str(int n) => n.ToString(CultureInfo.InvariantCulture);
}
