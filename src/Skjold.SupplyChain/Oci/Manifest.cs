using System.Text.Json;

namespace Skjold.SupplyChain.Oci;

/// <summary>A fetched manifest or index: its bytes (whose SHA-256 is <see cref="Digest"/>), media type and the parts Skjold reads.</summary>
public sealed record Manifest(
    string Digest,
    string MediaType,
    byte[] Bytes,
    string? ArtifactType,
    Descriptor? Config,
    IReadOnlyList<Descriptor> Layers,
    IReadOnlyList<Descriptor> Manifests,
    Descriptor? Subject,
    IReadOnlyDictionary<string, string> Annotations)
{
    public bool IsIndex => OciMediaTypes.IsIndex(MediaType);

    /// <summary>In an index, the manifest for a platform ("linux/amd64", "linux/arm64/v8"), or null; a platform without variant matches any variant.</summary>
    public Descriptor? ForPlatform(string platform)
    {
        Descriptor? loose = null;
        foreach (var m in Manifests)
        {
            if (m.Platform == platform)
            {
                return m;
            }

            if (loose is null && m.Platform is { } p && p.StartsWith(platform + "/", StringComparison.Ordinal))
            {
                loose = m;
            }
        }

        return loose;
    }

    public static Manifest Parse(string digest, string? headerMediaType, byte[] bytes)
    {
        try
        {
            using var doc = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 32 });
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new RegistryException("the manifest is not a JSON object");
            }

            var mediaType = root.TryGetProperty("mediaType", out var mt) ? mt.GetString() : null;
            mediaType ??= headerMediaType ?? (root.TryGetProperty("manifests", out _) ? OciMediaTypes.ImageIndex : OciMediaTypes.ImageManifest);
            var layers = List(root, "layers");
            var manifests = List(root, "manifests");
            var annotations = root.TryGetProperty("annotations", out _) ? Descriptor.Read(WithDigest(root)).Annotations : new Dictionary<string, string>();
            return new Manifest(
                digest,
                mediaType,
                bytes,
                root.TryGetProperty("artifactType", out var at) ? at.GetString() : null,
                root.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.Object ? Descriptor.Read(c) : null,
                layers,
                manifests,
                root.TryGetProperty("subject", out var s) && s.ValueKind == JsonValueKind.Object ? Descriptor.Read(s) : null,
                annotations);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new RegistryException($"malformed manifest {digest}: {e.Message}", e);
        }
    }

    private static JsonElement WithDigest(JsonElement root)
    {
        using var doc = JsonDocument.Parse($"{{\"digest\":\"-\",\"annotations\":{root.GetProperty("annotations").GetRawText()}}}");
        return doc.RootElement.Clone();
    }

    private static List<Descriptor> List(JsonElement root, string name)
    {
        var list = new List<Descriptor>();
        if (root.TryGetProperty(name, out var a) && a.ValueKind == JsonValueKind.Array)
        {
            foreach (var d in a.EnumerateArray())
            {
                list.Add(Descriptor.Read(d));
            }
        }

        return list;
    }
}
