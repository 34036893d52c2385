using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Skjold.SupplyChain.Oci;
using Skjold.SupplyChain.Sigstore;

namespace Skjold.SupplyChain.Cosign;

/// <summary>
/// Finds and verifies an image's signatures in its registry, in both layouts cosign writes:
/// the legacy <c>sha256-&lt;hex&gt;.sig</c> tag (simple-signing payload layers with the signature, and optionally
/// the certificate, chain, Rekor bundle and RFC 3161 timestamp, in annotations) and Sigstore bundles attached
/// as OCI referrers (a message signature over the manifest, or a DSSE in-toto statement whose subject is it).
/// Every signature goes through <see cref="BundleVerifier"/> (a legacy one is first put into bundle form), so
/// the same rules apply to both.
/// </summary>
public sealed class CosignVerifier(RegistryClient registry, TrustedRoot? root, CosignVerifierOptions? options = null, TimeProvider? time = null)
{
    private readonly CosignVerifierOptions _options = options ?? new CosignVerifierOptions();
    private readonly BundleVerifier? _bundles = root is null ? null : new BundleVerifier(root, time);

    /// <summary>Looks up and verifies every signature of <paramref name="digest"/>; registry failures propagate as <see cref="RegistryException"/>.</summary>
    public Task<ImageVerification> VerifyAsync(ImageReference image, string digest, VerificationPolicy policy, CancellationToken ct) =>
        VerifyAsync(image, digest, [policy], ct);

    /// <summary>
    /// As above, for a policy with several authorities (keys and identities): a signature counts when any of them
    /// verifies it. Registry failures propagate as <see cref="RegistryException"/>.
    /// </summary>
    public async Task<ImageVerification> VerifyAsync(ImageReference image, string digest, IReadOnlyList<VerificationPolicy> authorities, CancellationToken ct)
    {
        if (authorities.Count == 0)
        {
            throw new ArgumentException("at least one key or identity is needed", nameof(authorities));
        }

        var signatures = new List<ImageSignature>();
        var legacy = await registry.TryGetManifestAsync(image, CosignLayout.SignatureTag(digest), ct).ConfigureAwait(false);
        if (legacy is not null)
        {
            var n = 0;
            foreach (var layer in legacy.Layers)
            {
                if (layer.MediaType != CosignLayout.SimpleSigningMediaType || n++ >= _options.MaxSignatures)
                {
                    continue;
                }

                var payload = await registry.GetBlobAsync(image, layer.Digest, ct).ConfigureAwait(false);
                signatures.Add(FirstVerified(authorities, p => VerifyLegacy(layer, payload, digest, p)));
            }
        }

        var referrers = await registry.ReferrersAsync(image, digest, null, ct).ConfigureAwait(false);
        var m = 0;
        foreach (var referrer in referrers)
        {
            if (referrer.ArtifactType is null || Array.IndexOf(CosignLayout.BundleArtifactTypes, referrer.ArtifactType) < 0 || m++ >= _options.MaxSignatures)
            {
                continue;
            }

            var manifest = await registry.GetManifestAsync(image, referrer.Digest, ct).ConfigureAwait(false);
            if (manifest.Subject is { } subject && subject.Digest != digest)
            {
                signatures.Add(new ImageSignature("referrer", false, $"referrer {referrer.Digest} names subject {subject.Digest}, not this image", null, null, null, null, null));
                continue;
            }

            foreach (var layer in manifest.Layers)
            {
                if (!layer.MediaType.StartsWith("application/vnd.dev.sigstore.bundle", StringComparison.Ordinal))
                {
                    continue;
                }

                var bundle = await registry.GetBlobAsync(image, layer.Digest, ct).ConfigureAwait(false);
                signatures.Add(FirstVerified(authorities, p => VerifyBundle(bundle, digest, p)));
                break;
            }
        }

        return new ImageVerification(image.ToString(), digest, signatures);
    }

    private static ImageSignature FirstVerified(IReadOnlyList<VerificationPolicy> authorities, Func<VerificationPolicy, ImageSignature> verify)
    {
        ImageSignature? first = null;
        for (var i = 0; i < authorities.Count; i++)
        {
            var s = verify(authorities[i]);
            if (s.Verified)
            {
                return s with { Authority = i };
            }

            first ??= s;
        }

        return first!;
    }

    private ImageSignature VerifyBundle(byte[] json, string digest, VerificationPolicy policy)
    {
        if (_bundles is null)
        {
            return Failed("referrer", "a Sigstore bundle needs a trusted root to verify (supplyChain.trustedRoot or --trusted-root)");
        }

        var result = _bundles.Verify(json, Artifact.FromDigest(DigestBytes(digest)), policy);
        return From("referrer", result, policy);
    }

    private ImageSignature VerifyLegacy(Descriptor layer, byte[] payload, string digest, VerificationPolicy policy)
    {
        const string Layout = "cosign";
        if (!layer.Annotations.TryGetValue(CosignLayout.SignatureAnnotation, out var sigText))
        {
            return Failed(Layout, "a signature layer without the signature annotation");
        }

        byte[] signature;
        try
        {
            signature = Convert.FromBase64String(sigText);
        }
        catch (FormatException)
        {
            return Failed(Layout, "the signature annotation is not base64");
        }

        if (SimpleSigningDigest(payload) is var (claimed, problem) && problem is not null)
        {
            return Failed(Layout, problem);
        }
        else if (claimed != digest)
        {
            return Failed(Layout, $"the signed payload is for {claimed}, not {digest}");
        }

        X509Certificate2? leaf = null;
        var chain = new List<X509Certificate2>();
        try
        {
            if (layer.Annotations.TryGetValue(CosignLayout.CertificateAnnotation, out var pem) && pem.Length > 0)
            {
                leaf = X509Certificate2.CreateFromPem(pem);
                if (layer.Annotations.TryGetValue(CosignLayout.ChainAnnotation, out var chainPem))
                {
                    var all = new X509Certificate2Collection();
                    all.ImportFromPem(chainPem);
                    chain.AddRange(all);
                }
            }
        }
        catch (CryptographicException e)
        {
            return Failed(Layout, $"the certificate annotation is not a PEM certificate: {e.Message}");
        }

        var entries = new List<TransparencyLogEntry>();
        if (layer.Annotations.TryGetValue(CosignLayout.BundleAnnotation, out var rekorBundle))
        {
            try
            {
                entries.Add(RekorBundleEntry(rekorBundle));
            }
            catch (Exception e) when (e is JsonException or FormatException or SigstoreException or InvalidOperationException or KeyNotFoundException)
            {
                return Failed(Layout, $"the Rekor bundle annotation is malformed: {e.Message}");
            }
        }

        var timestamps = new List<byte[]>();
        if (layer.Annotations.TryGetValue(CosignLayout.TimestampAnnotation, out var tsJson))
        {
            try
            {
                using var doc = JsonDocument.Parse(tsJson);
                timestamps.Add(Convert.FromBase64String(doc.RootElement.GetProperty("SignedRFC3161Timestamp").GetString()!));
            }
            catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
            {
                return Failed(Layout, $"the timestamp annotation is malformed: {e.Message}");
            }
        }

        if (entries.Count == 0)
        {
            if (leaf is not null || _options.RequireTransparencyLog)
            {
                return Failed(Layout, "the signature has no transparency log entry (no Rekor bundle annotation); for key-based signatures made offline set transparencyLog: false");
            }

            if (policy.Key is null)
            {
                return Failed(Layout, "an offline signature can only be verified with a key");
            }

            return policy.Key.Verify(payload, signature)
                ? new ImageSignature(Layout, true, null, null, null, policy.Key.Description, null, null)
                : Failed(Layout, $"the signature does not verify with the {policy.Key.Description} key");
        }

        if (_bundles is null)
        {
            return Failed(Layout, "verifying a transparency log entry needs a trusted root (supplyChain.trustedRoot or --trusted-root)");
        }

        var bundle = new SigstoreBundle(
            "application/vnd.dev.sigstore.bundle+json;version=0.1", 1, leaf, chain, leaf is null ? "" : null, entries, timestamps,
            new MessageSignature("SHA2_256", SHA256.HashData(payload), signature), null);
        return From(Layout, _bundles.Verify(bundle, Artifact.FromBytes(payload), policy), policy);
    }

    /// <summary>cosign's Rekor bundle annotation: {"SignedEntryTimestamp", "Payload": {"body", "integratedTime", "logIndex", "logID"}}.</summary>
    private static TransparencyLogEntry RekorBundleEntry(string json)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
        var root = doc.RootElement;
        var set = Convert.FromBase64String(root.GetProperty("SignedEntryTimestamp").GetString()!);
        var p = root.GetProperty("Payload");
        var body = Convert.FromBase64String(p.GetProperty("body").GetString()!);
        using var bodyDoc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 32 });
        var kind = bodyDoc.RootElement.GetProperty("kind").GetString() ?? "";
        var version = bodyDoc.RootElement.GetProperty("apiVersion").GetString() ?? "";
        var logIndex = p.GetProperty("logIndex").GetInt64();
        if (logIndex < 0)
        {
            throw new SigstoreException("negative log index");
        }

        return new TransparencyLogEntry(logIndex, Convert.FromHexString(p.GetProperty("logID").GetString()!), kind, version,
            p.GetProperty("integratedTime").GetInt64(), set, null, body);
    }

    /// <summary>The docker-manifest-digest a simple-signing payload vouches for, or the problem with it.</summary>
    private static (string? Digest, string? Problem) SimpleSigningDigest(byte[] payload)
    {
        try
        {
            using var doc = JsonDocument.Parse(payload, new JsonDocumentOptions { MaxDepth = 32 });
            var critical = doc.RootElement.GetProperty("critical");
            var type = critical.GetProperty("type").GetString();
            if (!string.Equals(type, "cosign container image signature", StringComparison.OrdinalIgnoreCase))
            {
                return (null, $"the payload's type is '{type}', not a cosign container image signature");
            }

            return (critical.GetProperty("image").GetProperty("docker-manifest-digest").GetString(), null);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            return (null, $"the signed payload is not a simple-signing document: {e.Message}");
        }
    }

    private static ImageSignature From(string layout, VerificationResult r, VerificationPolicy policy) =>
        new(layout, r.Verified, r.Failure, r.Identity, r.Issuer, policy.Key?.Description, r.PredicateType, r.SigningTimes.Count > 0 ? r.SigningTimes[0] : null) { Statement = r.Statement };

    private static ImageSignature Failed(string layout, string why) => new(layout, false, why, null, null, null, null, null);

    private static byte[] DigestBytes(string digest) =>
        digest.StartsWith("sha256:", StringComparison.Ordinal) && digest.Length == 71
            ? Convert.FromHexString(digest.AsSpan(7))
            : throw new RegistryException($"unsupported digest {digest}");

    /// <summary>The simple-signing payload cosign signs for an image (what tests and tools that sign produce).</summary>
    public static byte[] SimpleSigningPayload(ImageReference image, string digest) => Encoding.UTF8.GetBytes(
        $"{{\"critical\":{{\"identity\":{{\"docker-reference\":\"{image.Registry}/{image.Repository}\"}},\"image\":{{\"docker-manifest-digest\":\"{digest}\"}},\"type\":\"cosign container image signature\"}},\"optional\":null}}");
}
