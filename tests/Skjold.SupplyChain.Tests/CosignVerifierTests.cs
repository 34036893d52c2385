using System.Security.Cryptography;
using Skjold.SupplyChain.Cosign;
using Skjold.SupplyChain.Crypto;
using Skjold.SupplyChain.Oci;
using Skjold.SupplyChain.Sigstore;
using Skjold.TestSupport;

namespace Skjold.SupplyChain.Tests;

/// <summary>Image signatures in both cosign layouts, pushed to a real registry and verified from it.</summary>
public sealed class CosignVerifierTests(RegistryFixture fx) : IClassFixture<RegistryFixture>
{
    private static VerificationPolicy Keyless(string identity = TestSigstore.DefaultIdentity) =>
        VerificationPolicy.ForIdentity(IdentityMatcher.Exact(identity), IdentityMatcher.Exact(TestSigstore.DefaultIssuer));

    /// <summary>Signs like `cosign sign` (keyless): a Fulcio certificate, the Rekor entry in the bundle annotation.</summary>
    private async Task SignLegacyKeylessAsync(RegistryClient client, ImageReference image, string digest, string identity = TestSigstore.DefaultIdentity)
    {
        var payload = CosignVerifier.SimpleSigningPayload(image, digest);
        var (cert, key) = fx.Sigstore.IssueCertificate(identity);
        var sig = TestSigstore.Sign(key, payload);
        var pem = cert.ExportCertificatePem() + "\n";
        var entry = fx.Sigstore.LogHashedRekord(SHA256.HashData(payload), sig, pem);
        await TestImages.PushLegacySignatureAsync(client, image, payload, new Dictionary<string, string>
        {
            [CosignLayout.SignatureAnnotation] = Convert.ToBase64String(sig),
            [CosignLayout.CertificateAnnotation] = pem,
            [CosignLayout.BundleAnnotation] = fx.Sigstore.RekorBundleAnnotation(entry),
        });
    }

    private async Task SignLegacyKeyAsync(RegistryClient client, ImageReference image, string digest, ECDsa key, bool tlog)
    {
        var payload = CosignVerifier.SimpleSigningPayload(image, digest);
        var sig = TestSigstore.Sign(key, payload);
        var annotations = new Dictionary<string, string> { [CosignLayout.SignatureAnnotation] = Convert.ToBase64String(sig) };
        if (tlog)
        {
            var entry = fx.Sigstore.LogHashedRekord(SHA256.HashData(payload), sig, TestSigstore.PublicKeyPem(key));
            annotations[CosignLayout.BundleAnnotation] = fx.Sigstore.RekorBundleAnnotation(entry);
        }

        await TestImages.PushLegacySignatureAsync(client, image, payload, annotations);
    }

    private CosignVerifier Verifier(RegistryClient client, CosignVerifierOptions? options = null) => new(client, fx.Sigstore.TrustedRoot, options);

    [Fact]
    public async Task Verify_LegacyKeyless_Verified()
    {
        using var client = fx.Client();
        var image = fx.Image("signed/keyless");
        var digest = await TestImages.PushImageAsync(client, image);
        await SignLegacyKeylessAsync(client, image, digest);
        var result = await Verifier(client).VerifyAsync(image, digest, Keyless(), default);
        Assert.Equal(1, result.VerifiedCount);
        Assert.Equal(TestSigstore.DefaultIdentity, result.Signatures[0].Identity);
    }

    [Fact]
    public async Task Verify_LegacyKeyless_WrongIdentity_NotVerified()
    {
        using var client = fx.Client();
        var image = fx.Image("signed/other-identity");
        var digest = await TestImages.PushImageAsync(client, image);
        await SignLegacyKeylessAsync(client, image, digest, "mallory@example.com");
        var result = await Verifier(client).VerifyAsync(image, digest, Keyless(), default);
        Assert.Equal(0, result.VerifiedCount);
        Assert.Contains("identity", result.Signatures.Single().Failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_LegacyKey_VerifiedAndWrongKeyRejected()
    {
        using var client = fx.Client();
        var image = fx.Image("signed/key");
        var digest = await TestImages.PushImageAsync(client, image);
        using var key = TestSigstore.NewKey();
        await SignLegacyKeyAsync(client, image, digest, key, tlog: true);
        var ok = await Verifier(client).VerifyAsync(image, digest, VerificationPolicy.ForKey(VerifyingKey.FromPem(TestSigstore.PublicKeyPem(key))), default);
        Assert.Equal(1, ok.VerifiedCount);
        using var other = TestSigstore.NewKey();
        var wrong = await Verifier(client).VerifyAsync(image, digest, VerificationPolicy.ForKey(VerifyingKey.FromPem(TestSigstore.PublicKeyPem(other))), default);
        Assert.Equal(0, wrong.VerifiedCount);
        Assert.Contains("does not verify", wrong.Signatures.Single().Failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_OfflineKeySignature_NeedsExplicitOptOutOfTheLog()
    {
        using var client = fx.Client();
        var image = fx.Image("signed/offline");
        var digest = await TestImages.PushImageAsync(client, image);
        using var key = TestSigstore.NewKey();
        await SignLegacyKeyAsync(client, image, digest, key, tlog: false);
        var policy = VerificationPolicy.ForKey(VerifyingKey.FromPem(TestSigstore.PublicKeyPem(key)));
        var strict = await Verifier(client).VerifyAsync(image, digest, policy, default);
        Assert.Equal(0, strict.VerifiedCount);
        Assert.Contains("transparency log", strict.Signatures.Single().Failure, StringComparison.Ordinal);
        var offline = await Verifier(client, new CosignVerifierOptions { RequireTransparencyLog = false }).VerifyAsync(image, digest, policy, default);
        Assert.Equal(1, offline.VerifiedCount);
    }

    [Fact]
    public async Task Verify_TamperedManifest_SignatureDoesNotCarryOver()
    {
        using var client = fx.Client();
        var image = fx.Image("signed/tampered");
        var digest = await TestImages.PushImageAsync(client, image);
        await SignLegacyKeylessAsync(client, image, digest);
        // Someone pushes another manifest under the same tag and copies the signature manifest to the new digest's tag.
        var tampered = await TestImages.PushImageAsync(client, image, "backdoor");
        Assert.NotEqual(digest, tampered);
        var sigManifest = await client.GetManifestAsync(image, CosignLayout.SignatureTag(digest), default);
        await client.PushManifestAsync(image, CosignLayout.SignatureTag(tampered), sigManifest.MediaType, sigManifest.Bytes, default);
        var result = await Verifier(client).VerifyAsync(image, tampered, Keyless(), default);
        Assert.Equal(0, result.VerifiedCount);
        Assert.Contains("signed payload is for", result.Signatures.Single().Failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_BundleReferrer_Verified()
    {
        using var client = fx.Client();
        var image = fx.Image("signed/referrer");
        var digest = await TestImages.PushImageAsync(client, image);
        var manifestSha = Convert.FromHexString(digest[7..]);
        var (cert, key) = fx.Sigstore.IssueCertificate();
        var sig = TestSigstore.SignDigest(key, manifestSha);
        var entry = fx.Sigstore.LogHashedRekord(manifestSha, sig, cert.ExportCertificatePem() + "\n");
        var bundle = fx.Sigstore.Bundle(manifestSha, sig, cert, entry);
        await TestImages.PushBundleReferrerAsync(client, image, digest, System.Text.Encoding.UTF8.GetBytes(bundle));
        var result = await Verifier(client).VerifyAsync(image, digest, Keyless(), default);
        Assert.Equal(1, result.VerifiedCount);
        Assert.Equal("referrer", result.Signatures.Single().Layout);
    }

    [Fact]
    public async Task Verify_Unsigned_NoSignatures()
    {
        using var client = fx.Client();
        var image = fx.Image("unsigned/app");
        var digest = await TestImages.PushImageAsync(client, image);
        var result = await Verifier(client).VerifyAsync(image, digest, Keyless(), default);
        Assert.Empty(result.Signatures);
        Assert.Equal(0, result.VerifiedCount);
    }
}
