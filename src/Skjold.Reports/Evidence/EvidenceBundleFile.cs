namespace Skjold.Reports.Evidence;

/// <summary>The bundle file as stored.</summary>
public sealed record EvidenceBundleFile(string Kind, int Version, string Framework, double Score, string GeneratedAt, string Algorithm, string KeyId, string ReportSha256, string Report, string Signature);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(EvidenceBundleFile))]
internal sealed partial class EvidenceJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
