namespace Skjold.Reports;

/// <summary>Writes a scan result in one format.</summary>
public interface IReportWriter
{
    void Write(ReportContext context, TextWriter output);
}
