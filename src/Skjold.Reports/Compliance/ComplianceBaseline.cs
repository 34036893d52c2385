using System.Globalization;
using System.Text.Json;
using Skjold.Reports.Evidence;

namespace Skjold.Reports.Compliance;

/// <summary>What a diff needs from an earlier JSON report: when, the score, each control's status, the framework and the input digest.</summary>
public sealed record ComplianceBaseline(DateTimeOffset GeneratedAt, double Score, IReadOnlyDictionary<string, string> Statuses, string Framework, string? InputDigest)
{
    /// <summary>Reads what a diff needs from an earlier JSON report.</summary>
    /// <exception cref="EvidenceInputException">not JSON, or not a compliance report</exception>
    public static ComplianceBaseline Read(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("kind", out var kind) || kind.ValueKind != JsonValueKind.String || kind.GetString() != "SkjoldComplianceReport")
            {
                throw new EvidenceInputException(EvidenceInputKind.Baseline, "not a Skjold compliance report in JSON (kind SkjoldComplianceReport)");
            }

            var statuses = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var c in root.GetProperty("controls").EnumerateArray())
            {
                statuses[c.GetProperty("id").GetString()!] = c.GetProperty("status").GetString()!;
            }

            var digest = root.TryGetProperty("inputDigest", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
            return new(DateTimeOffset.Parse(root.GetProperty("generatedAt").GetString()!, CultureInfo.InvariantCulture), root.GetProperty("score").GetDouble(), statuses,
                root.GetProperty("framework").GetProperty("id").GetString()!, digest);
        }
        catch (JsonException ex)
        {
            throw new EvidenceInputException(EvidenceInputKind.Baseline, $"not JSON (line {(ex.LineNumber ?? 0) + 1})", ex);
        }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new EvidenceInputException(EvidenceInputKind.Baseline, $"not a complete Skjold compliance report: {ex.Message}", ex);
        }
    }
}
