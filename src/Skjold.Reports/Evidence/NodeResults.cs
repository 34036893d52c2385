using System.Text.Json;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Reports.Evidence;

/// <summary>A <c>skjold node-check</c> JSON report read back: its node findings and the checks it evaluated.</summary>
public sealed record NodeResults(IReadOnlyList<Finding> Findings, IReadOnlyList<string> EvaluatedChecks)
{
    /// <summary>Reads a node-check report; findings of checks that are not node checks of <paramref name="catalog"/> are ignored.</summary>
    /// <exception cref="EvidenceInputException">not JSON, or not a node-check report</exception>
    public static NodeResults Read(byte[] json, string name, CheckCatalog catalog)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("evaluatedChecks", out var evaluated))
            {
                throw new EvidenceInputException(EvidenceInputKind.NodeResults, $"{name} is not a skjold node-check JSON report (no evaluatedChecks)");
            }

            var findings = new List<Finding>();
            foreach (var f in root.GetProperty("findings").EnumerateArray())
            {
                var id = f.GetProperty("checkId").GetString()!;
                if (!id.StartsWith("node/", StringComparison.Ordinal) || !catalog.TryGet(id, out var meta))
                {
                    continue;
                }

                var res = f.GetProperty("resource");
                SeverityNames.TryParse(f.GetProperty("severity").GetString(), out var severity);
                SourceLocation? location = f.TryGetProperty("location", out var l) && l.ValueKind == JsonValueKind.Object
                    ? new SourceLocation(l.GetProperty("file").GetString()!, l.GetProperty("line").GetInt32()) : null;
                findings.Add(new Finding(id, severity ?? meta.Severity,
                    new ResourceRef(res.GetProperty("apiVersion").GetString()!, res.GetProperty("kind").GetString()!, null, res.GetProperty("name").GetString()!),
                    f.TryGetProperty("path", out var p) ? p.GetString() ?? string.Empty : string.Empty, f.GetProperty("message").GetString()!, meta.Remediation, location));
            }

            return new NodeResults(findings, [.. evaluated.EnumerateArray().Select(e => e.GetString()!)]);
        }
        catch (JsonException ex)
        {
            throw new EvidenceInputException(EvidenceInputKind.NodeResults, $"{name} is not JSON (line {(ex.LineNumber ?? 0) + 1})", ex);
        }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new EvidenceInputException(EvidenceInputKind.NodeResults, $"{name} is not a skjold node-check JSON report: {ex.Message}", ex);
        }
    }
}
