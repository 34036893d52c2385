using System.Globalization;
using System.Xml;
using Skjold.Engine.Model;

namespace Skjold.Reports;

/// <summary>
/// JUnit XML for CI test views: one test suite per resource with findings, one failed test case
/// per finding, and an error test case per input error. Valid against the strict schema Jenkins'
/// xunit plugin enforces (no file or line on a test case: the location is in the failure text).
/// Findings of one resource arrive together, so a suite is written when the next resource begins.
/// </summary>
public sealed class JUnitReportWriter : IReportWriter
{
    public IReportStream Begin(ReportContext context, TextWriter output) => new Stream(context, output);

    private sealed class Stream : IReportStream
    {
        private readonly ReportContext _context;
        private readonly TextWriter _output;
        private readonly XmlWriter _xml;
        private readonly List<Finding> _group = [];

        public Stream(ReportContext context, TextWriter output)
        {
            _context = context;
            _output = output;
            _xml = XmlWriter.Create(output, new XmlWriterSettings { Indent = true, OmitXmlDeclaration = false, CloseOutput = false });
            _xml.WriteStartDocument();
            _xml.WriteStartElement("testsuites");
            _xml.WriteAttributeString("name", "skjold scan");
            _xml.WriteAttributeString("timestamp", context.GeneratedAt.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture));
        }

        public void Add(Finding finding)
        {
            // A resource is its kind, namespace and name in one file: the same name in dev/ and prod/ is two resources.
            if (_group.Count > 0 && (_group[0].Resource != finding.Resource || _group[0].Location?.File != finding.Location?.File))
            {
                WriteGroup();
            }

            _group.Add(finding);
        }

        public void Complete(ScanTotals totals, IReadOnlyList<SuppressedFinding> suppressed, IReadOnlyList<Diagnostic> diagnostics, IReadOnlyList<string>? evaluatedChecks)
        {
            WriteGroup();
            var errors = diagnostics.Where(d => d.Level == DiagnosticLevel.Error).ToList();
            if (errors.Count > 0)
            {
                _xml.WriteStartElement("testsuite");
                _xml.WriteAttributeString("name", "input");
                _xml.WriteAttributeString("tests", Str(errors.Count));
                _xml.WriteAttributeString("failures", "0");
                _xml.WriteAttributeString("errors", Str(errors.Count));
                foreach (var d in errors)
                {
                    _xml.WriteStartElement("testcase");
                    _xml.WriteAttributeString("classname", "input");
                    _xml.WriteAttributeString("name", d.Location?.ToString() ?? d.Code);
                    _xml.WriteStartElement("error");
                    _xml.WriteAttributeString("type", d.Code);
                    _xml.WriteAttributeString("message", d.Message);
                    _xml.WriteEndElement();
                    _xml.WriteEndElement();
                }

                _xml.WriteEndElement();
            }

            _xml.WriteEndElement();
            _xml.WriteEndDocument();
            _xml.Flush();
            _output.WriteLine();
        }

        private void WriteGroup()
        {
            if (_group.Count == 0)
            {
                return;
            }

            var first = _group[0];
            var suiteName = first.Location?.File is { } file ? $"{first.Resource} ({file})" : first.Resource.ToString();
            _xml.WriteStartElement("testsuite");
            _xml.WriteAttributeString("name", suiteName);
            _xml.WriteAttributeString("tests", Str(_group.Count));
            _xml.WriteAttributeString("failures", Str(_group.Count));
            _xml.WriteAttributeString("errors", "0");
            foreach (var f in _group)
            {
                _xml.WriteStartElement("testcase");
                _xml.WriteAttributeString("classname", suiteName);
                _xml.WriteAttributeString("name", $"{f.CheckId} {f.Path}");
                _xml.WriteStartElement("failure");
                _xml.WriteAttributeString("type", f.Severity.ToName());
                _xml.WriteAttributeString("message", f.Message);
                _xml.WriteString($"{f.Message}\nSeverity: {f.Severity.ToName()}\nLocation: {f.Location}\nRemediation: {f.Remediation}");
                _xml.WriteEndElement();
                _xml.WriteEndElement();
            }

            _xml.WriteEndElement();
            _group.Clear();
        }

        public void Dispose() => _xml.Dispose();
    }

    private static string Str(int n) => n.ToString(CultureInfo.InvariantCulture);
}
