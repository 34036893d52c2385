using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Skjold.SupplyChain.Crypto;
using Skjold.SupplyChain.Sigstore;
using Skjold.TestSupport;

namespace Skjold.SupplyChain.Tests;

/// <summary>The verifier against bundles from a throwaway Sigstore instance (TestSigstore), one defect per test.</summary>
public sealed class BundleVerifierTests : IDisposable
{
    private readonly TestSigstore _sigstore = new();
    private readonly byte[] _artifact = Encoding.UTF8.GetBytes("release artefact v1.2.3\n");

    public void Dispose() => _sigstore.Dispose();

    private static VerificationPolicy Keyless(string identity = TestSigstore.DefaultIdentity, string issuer = TestSigstore.DefaultIssuer) =>
        VerificationPolicy.ForIdentity(IdentityMatcher.Exact(identity), IdentityMatcher.Exact(issuer));

    private (string Bundle, X509CertificateHolder Cert) KeylessBundle(string identity = TestSigstore.DefaultIdentity, DateTimeOffset? logTime = null, byte[]? artifact = null)
    {
        var (cert, key) = _sigstore.IssueCertificate(identity);
        var digest = SHA256.HashData(artifact ?? _artifact);
        var sig = TestSigstore.Sign(key, artifact ?? _artifact);
        var entry = _sigstore.LogHashedRekord(digest, sig, cert.ExportCertificatePem() + "\n", logTime);
        return (_sigstore.Bundle(digest, sig, cert, entry), new X509CertificateHolder(cert));
    }

    internal sealed record X509CertificateHolder(System.Security.Cryptography.X509Certificates.X509Certificate2 Certificate);

    private VerificationResult Verify(string bundle, VerificationPolicy policy, byte[]? artifact = null) =>
        new BundleVerifier(_sigstore.TrustedRoot).Verify(Encoding.UTF8.GetBytes(bundle), Artifact.FromBytes(artifact ?? _artifact), policy);

    [Fact]
    public void Verify_KeylessBundle_VerifiedWithIdentityAndTime()
    {
        var (bundle, _) = KeylessBundle();
        var result = Verify(bundle, Keyless());
        Assert.True(result.Verified, result.Failure);
        Assert.Equal(TestSigstore.DefaultIdentity, result.Identity);
        Assert.Equal(TestSigstore.DefaultIssuer, result.Issuer);
        Assert.Single(result.SigningTimes);
    }

    [Fact]
    public void Verify_WrongIdentity_Rejected()
    {
        var (bundle, _) = KeylessBundle("https://github.com/attacker/fork/.github/workflows/release.yml@refs/heads/main");
        var result = Verify(bundle, Keyless());
        Assert.False(result.Verified);
        Assert.Contains("identity", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_WrongIssuer_Rejected()
    {
        var (bundle, _) = KeylessBundle();
        var result = Verify(bundle, Keyless(issuer: "https://accounts.google.com"));
        Assert.False(result.Verified);
        Assert.Contains("issuer", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_IdentityPattern_IsAnchored()
    {
        var (bundle, _) = KeylessBundle();
        var matching = VerificationPolicy.ForIdentity(IdentityMatcher.Pattern(@"https://github\.com/skjold/.+"), IdentityMatcher.Exact(TestSigstore.DefaultIssuer));
        Assert.True(Verify(bundle, matching).Verified);
        // An unanchored pattern would match a substring of an attacker's identity; ours must match the whole SAN.
        var partial = VerificationPolicy.ForIdentity(IdentityMatcher.Pattern(@"github\.com/skjold"), IdentityMatcher.Exact(TestSigstore.DefaultIssuer));
        Assert.False(Verify(bundle, partial).Verified);
    }

    [Fact]
    public void Verify_OtherArtifact_Rejected()
    {
        var (bundle, _) = KeylessBundle();
        var result = Verify(bundle, Keyless(), Encoding.UTF8.GetBytes("a different artefact"));
        Assert.False(result.Verified);
    }

    [Fact]
    public void Verify_KeylessWithoutExpectedIdentity_Refused()
    {
        var (bundle, _) = KeylessBundle();
        var result = Verify(bundle, new VerificationPolicy());
        Assert.False(result.Verified);
        Assert.Contains("expected identity", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_LoggedAfterCertificateExpired_Rejected()
    {
        // The certificate lives 10 minutes; an entry integrated an hour later proves nothing about when it was signed.
        var (late, _) = KeylessBundle(logTime: DateTimeOffset.UtcNow.AddMinutes(30));
        var result = new BundleVerifier(_sigstore.TrustedRoot, new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(1)))
            .Verify(Encoding.UTF8.GetBytes(late), Artifact.FromBytes(_artifact), Keyless());
        Assert.False(result.Verified);
        Assert.Contains("outside the certificate's validity", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_IntegratedTimeInTheFuture_Rejected()
    {
        var (bundle, _) = KeylessBundle(logTime: DateTimeOffset.UtcNow.AddMinutes(5));
        var result = Verify(bundle, Keyless());
        Assert.False(result.Verified);
        Assert.Contains("future", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_OtherInstancesTrustedRoot_Rejected()
    {
        var (bundle, _) = KeylessBundle();
        using var other = new TestSigstore();
        // The same bundle checked against another instance's trust: the log is unknown.
        var result = new BundleVerifier(other.TrustedRoot).Verify(Encoding.UTF8.GetBytes(bundle), Artifact.FromBytes(_artifact), Keyless());
        Assert.False(result.Verified);
        Assert.Contains("trusted root does not name", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_CorruptedProofHash_Rejected()
    {
        // Two entries so the proof has a hash to corrupt.
        KeylessBundle();
        var (bundle, _) = KeylessBundle();
        var node = System.Text.Json.Nodes.JsonNode.Parse(bundle)!;
        var hashes = node["verificationMaterial"]!["tlogEntries"]![0]!["inclusionProof"]!["hashes"]!.AsArray();
        var h = Convert.FromBase64String(hashes[0]!.GetValue<string>());
        h[0] ^= 1;
        hashes[0] = Convert.ToBase64String(h);
        var result = Verify(node.ToJsonString(), Keyless());
        Assert.False(result.Verified);
        Assert.Contains("inclusion proof", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_KeyBundle_VerifiedWithKeyOnly()
    {
        using var key = TestSigstore.NewKey();
        var digest = SHA256.HashData(_artifact);
        var sig = TestSigstore.Sign(key, _artifact);
        var entry = _sigstore.LogHashedRekord(digest, sig, TestSigstore.PublicKeyPem(key));
        var bundle = _sigstore.Bundle(digest, sig, null, entry);
        Assert.True(Verify(bundle, VerificationPolicy.ForKey(VerifyingKey.FromPem(TestSigstore.PublicKeyPem(key)))).Verified);
        using var wrong = TestSigstore.NewKey();
        var result = Verify(bundle, VerificationPolicy.ForKey(VerifyingKey.FromPem(TestSigstore.PublicKeyPem(wrong))));
        Assert.False(result.Verified);
        Assert.Contains("does not verify", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_HostileInput_RejectedWithoutThrowing()
    {
        var policy = Keyless();
        string[] inputs =
        [
            "", "null", "[]", "{\"mediaType\":7}", new string('[', 10_000),
            "{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\",\"verificationMaterial\":{\"certificate\":{\"rawBytes\":\"AAAA\"}},\"messageSignature\":{\"signature\":\"AA==\"}}",
        ];
        foreach (var input in inputs)
        {
            var result = Verify(input, policy);
            Assert.False(result.Verified);
            Assert.False(string.IsNullOrEmpty(result.Failure));
        }
    }
}
