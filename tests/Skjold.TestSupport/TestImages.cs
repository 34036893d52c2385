using System.Security.Cryptography;
using System.Text;
using Skjold.SupplyChain.Cosign;
using Skjold.SupplyChain.Oci;

namespace Skjold.TestSupport;

/// <summary>Small generated OCI images and cosign signatures, pushed with the client under test's push half.</summary>
public static class TestImages
{
    /// <summary>Pushes a one-layer OCI image under <paramref name="image"/>'s tag; returns the manifest digest.</summary>
    public static async Task<string> PushImageAsync(RegistryClient client, ImageReference image, string? content = null, CancellationToken ct = default)
    {
        var config = Encoding.UTF8.GetBytes($"{{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{{}},\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[]}},\"history\":[{{\"comment\":\"{content ?? Guid.NewGuid().ToString()}\"}}]}}");
        var layer = RandomNumberGenerator.GetBytes(512);
        var configDigest = await client.PushBlobAsync(image, config, ct);
        var layerDigest = await client.PushBlobAsync(image, layer, ct);
        var manifest = Encoding.UTF8.GetBytes(
            $"{{\"schemaVersion\":2,\"mediaType\":\"{OciMediaTypes.ImageManifest}\",\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"{configDigest}\",\"size\":{config.Length}}},\"layers\":[{{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"{layerDigest}\",\"size\":{layer.Length}}}]}}");
        return await client.PushManifestAsync(image, image.Tag ?? "latest", OciMediaTypes.ImageManifest, manifest, ct);
    }

    /// <summary>Pushes an index of two platform images under the tag; returns (index digest, amd64 digest, arm64 digest).</summary>
    public static async Task<(string Index, string Amd64, string Arm64)> PushIndexAsync(RegistryClient client, ImageReference image, CancellationToken ct = default)
    {
        var amd = await PushImageAsync(client, image with { Tag = (image.Tag ?? "latest") + "-amd64" }, "amd64", ct);
        var arm = await PushImageAsync(client, image with { Tag = (image.Tag ?? "latest") + "-arm64" }, "arm64", ct);
        var amdSize = (await client.GetManifestAsync(image, amd, ct)).Bytes.Length;
        var armSize = (await client.GetManifestAsync(image, arm, ct)).Bytes.Length;
        var index = Encoding.UTF8.GetBytes(
            $"{{\"schemaVersion\":2,\"mediaType\":\"{OciMediaTypes.ImageIndex}\",\"manifests\":[{{\"mediaType\":\"{OciMediaTypes.ImageManifest}\",\"digest\":\"{amd}\",\"size\":{amdSize},\"platform\":{{\"os\":\"linux\",\"architecture\":\"amd64\"}}}},{{\"mediaType\":\"{OciMediaTypes.ImageManifest}\",\"digest\":\"{arm}\",\"size\":{armSize},\"platform\":{{\"os\":\"linux\",\"architecture\":\"arm64\"}}}}]}}");
        var digest = await client.PushManifestAsync(image, image.Tag ?? "latest", OciMediaTypes.ImageIndex, index, ct);
        return (digest, amd, arm);
    }

    /// <summary>Pushes a legacy cosign signature manifest (tag sha256-&lt;hex&gt;.sig) with one simple-signing layer and these annotations.</summary>
    public static async Task PushLegacySignatureAsync(RegistryClient client, ImageReference image, byte[] payload, IReadOnlyDictionary<string, string> annotations, CancellationToken ct = default)
    {
        var digest = ExtractDigest(payload);
        var config = "{}"u8.ToArray();
        var configDigest = await client.PushBlobAsync(image, config, ct);
        var payloadDigest = await client.PushBlobAsync(image, payload, ct);
        var ann = string.Join(",", annotations.Select(a => $"{System.Text.Json.JsonSerializer.Serialize(a.Key)}:{System.Text.Json.JsonSerializer.Serialize(a.Value)}"));
        var manifest = Encoding.UTF8.GetBytes(
            $"{{\"schemaVersion\":2,\"mediaType\":\"{OciMediaTypes.ImageManifest}\",\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"{configDigest}\",\"size\":{config.Length}}},\"layers\":[{{\"mediaType\":\"{CosignLayout.SimpleSigningMediaType}\",\"digest\":\"{payloadDigest}\",\"size\":{payload.Length},\"annotations\":{{{ann}}}}}]}}");
        await client.PushManifestAsync(image, CosignLayout.SignatureTag(digest), OciMediaTypes.ImageManifest, manifest, ct);
    }

    /// <summary>
    /// Attaches a Sigstore bundle as a referrer of <paramref name="subjectDigest"/>: a manifest with artifactType and
    /// subject, and (since the registry may not implement the referrers API) the tag-schema index beside it.
    /// </summary>
    public static async Task PushBundleReferrerAsync(RegistryClient client, ImageReference image, string subjectDigest, byte[] bundle, CancellationToken ct = default)
    {
        const string BundleType = "application/vnd.dev.sigstore.bundle.v0.3+json";
        var empty = "{}"u8.ToArray();
        var emptyDigest = await client.PushBlobAsync(image, empty, ct);
        var bundleDigest = await client.PushBlobAsync(image, bundle, ct);
        var subject = await client.GetManifestAsync(image, subjectDigest, ct);
        var manifest = Encoding.UTF8.GetBytes(
            $"{{\"schemaVersion\":2,\"mediaType\":\"{OciMediaTypes.ImageManifest}\",\"artifactType\":\"{BundleType}\",\"config\":{{\"mediaType\":\"{OciMediaTypes.EmptyConfig}\",\"digest\":\"{emptyDigest}\",\"size\":2}},\"layers\":[{{\"mediaType\":\"{BundleType}\",\"digest\":\"{bundleDigest}\",\"size\":{bundle.Length}}}],\"subject\":{{\"mediaType\":\"{subject.MediaType}\",\"digest\":\"{subjectDigest}\",\"size\":{subject.Bytes.Length}}}}}");
        var referrerDigest = RegistryClient.Sha256Digest(manifest);
        await client.PushManifestAsync(image, referrerDigest, OciMediaTypes.ImageManifest, manifest, ct);
        var index = Encoding.UTF8.GetBytes(
            $"{{\"schemaVersion\":2,\"mediaType\":\"{OciMediaTypes.ImageIndex}\",\"manifests\":[{{\"mediaType\":\"{OciMediaTypes.ImageManifest}\",\"digest\":\"{referrerDigest}\",\"size\":{manifest.Length},\"artifactType\":\"{BundleType}\"}}]}}");
        await client.PushManifestAsync(image, RegistryClient.FallbackTag(subjectDigest), OciMediaTypes.ImageIndex, index, ct);
    }

    private static string ExtractDigest(byte[] payload)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(payload);
        return doc.RootElement.GetProperty("critical").GetProperty("image").GetProperty("docker-manifest-digest").GetString()!;
    }
}
