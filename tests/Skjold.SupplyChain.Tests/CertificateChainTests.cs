using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Skjold.SupplyChain.Sigstore;
using Skjold.TestSupport;

namespace Skjold.SupplyChain.Tests;

/// <summary>The direct leaf-to-authority check that replaces per-bundle chain building: what it must refuse.</summary>
public sealed class CertificateChainTests : IDisposable
{
    private readonly TestSigstore _a = new();
    private readonly TestSigstore _b = new();

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
    }

    private TrustedAuthority Fulcio(TestSigstore s) => s.TrustedRoot.CertificateAuthorities.Single();

    [Fact]
    public void Build_LeafOfThisAuthority_ChainsToItsRoot()
    {
        var (leaf, _) = _a.IssueCertificate();
        var chain = CertificateChains.Build(leaf, Fulcio(_a), DateTimeOffset.UtcNow, out var problem);
        Assert.NotNull(chain);
        Assert.Null(problem);
        Assert.Equal(3, chain!.Count);
    }

    [Fact]
    public void Build_SameIssuerNameOtherKey_Refused()
    {
        // Both instances name their intermediate alike: only the signature tells them apart.
        var (leaf, _) = _b.IssueCertificate();
        Assert.Equal(leaf.IssuerName.Name, Fulcio(_a).Chain[0].SubjectName.Name);
        Assert.Null(CertificateChains.Build(leaf, Fulcio(_a), DateTimeOffset.UtcNow, out var problem));
        Assert.Contains("does not verify", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_OutsideLeafValidity_Refused()
    {
        var (leaf, _) = _a.IssueCertificate();
        Assert.Null(CertificateChains.Build(leaf, Fulcio(_a), DateTimeOffset.UtcNow.AddHours(1), out var problem));
        Assert.Contains("is not valid at", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_UnknownCriticalExtension_Refused()
    {
        // A leaf signed by the real intermediate, but with a critical extension no verifier understands.
        var issuer = Fulcio(_a).Chain[0];
        var intermediateKey = typeof(TestSigstore).GetField("_intermediateKey", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(_a) as ECDsa;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest(new X500DistinguishedName(""), key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.3")], false));
        req.CertificateExtensions.Add(new X509Extension("1.2.3.4.5.6.7", [0x05, 0x00], critical: true));
        using var withKey = issuer.CopyWithPrivateKey(intermediateKey!);
        using var leaf = req.Create(withKey, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(9), RandomNumberGenerator.GetBytes(8));
        Assert.Null(CertificateChains.Build(leaf, Fulcio(_a), DateTimeOffset.UtcNow, out var problem));
        Assert.Contains("unknown critical extension", problem, StringComparison.Ordinal);
    }
}
