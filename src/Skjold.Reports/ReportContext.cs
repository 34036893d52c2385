using Skjold.Engine.Checks;
using Skjold.Engine.Model;
using Skjold.Engine.Policy;

namespace Skjold.Reports;

/// <summary>Everything a writer needs: the result, the policy it was judged by, check metadata and tool version.</summary>
public sealed record ReportContext(
    ScanResult Result,
    ScanPolicy Policy,
    CheckCatalog Catalog,
    string ToolVersion,
    DateTimeOffset GeneratedAt,
    string? BaseDirectory = null)
{
    /// <summary>The path reports give input read from stdin (<c>--stdin-name</c>); SARIF needs a location for every result.</summary>
    public string StdinName { get; init; } = "stdin";
}
