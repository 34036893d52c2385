using System.Text.Json;

namespace Skjold.SupplyChain.Oci;

/// <summary>An OCI content descriptor: media type, digest, size, and the optional artifact type, platform and annotations.</summary>
public sealed record Descriptor(string MediaType, string Digest, long Size, string? ArtifactType, string? Platform, IReadOnlyDictionary<string, string> Annotations)
{
    internal static Descriptor Read(JsonElement e)
    {
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal);
        if (e.TryGetProperty("annotations", out var a) && a.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in a.EnumerateObject())
            {
                if (p.Value.ValueKind == JsonValueKind.String)
                {
                    annotations[p.Name] = p.Value.GetString()!;
                }
            }
        }

        string? platform = null;
        if (e.TryGetProperty("platform", out var pl) && pl.ValueKind == JsonValueKind.Object)
        {
            var os = pl.TryGetProperty("os", out var o) ? o.GetString() : null;
            var arch = pl.TryGetProperty("architecture", out var ar) ? ar.GetString() : null;
            var variant = pl.TryGetProperty("variant", out var v) ? v.GetString() : null;
            platform = variant is null ? $"{os}/{arch}" : $"{os}/{arch}/{variant}";
        }

        return new Descriptor(
            e.TryGetProperty("mediaType", out var mt) ? mt.GetString() ?? "" : "",
            e.GetProperty("digest").GetString() ?? throw new RegistryException("a descriptor without a digest"),
            e.TryGetProperty("size", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt64() : 0,
            e.TryGetProperty("artifactType", out var at) ? at.GetString() : null,
            platform,
            annotations);
    }
}
