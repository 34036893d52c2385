using System.Collections.Concurrent;
using System.Security.Cryptography;
using Skjold.SupplyChain.Cosign;
using Skjold.SupplyChain.Policy;
using Skjold.SupplyChain.Sigstore;
using Skjold.TestSupport;

namespace Skjold.SupplyChain.Tests;

/// <summary>The verdict cache shared by replicas must never carry a verdict across a change of what a rule accepts.</summary>
public sealed class VerificationServiceTests(RegistryFixture fx) : IClassFixture<RegistryFixture>
{
    private sealed class MemoryStore : IVerificationStore
    {
        public ConcurrentDictionary<string, (bool, string)> Entries { get; } = new(StringComparer.Ordinal);

        public ValueTask<(bool Verified, string Message)?> GetAsync(string key, CancellationToken ct) =>
            ValueTask.FromResult<(bool, string)?>(Entries.TryGetValue(key, out var v) ? v : null);

        public ValueTask PutAsync(string key, bool verified, string message, DateTimeOffset expires, CancellationToken ct)
        {
            Entries[key] = (verified, message);
            return ValueTask.CompletedTask;
        }
    }

    private SupplyChainSettings Settings(string identity) => new()
    {
        TrustedRoot = fx.Sigstore.TrustedRoot,
        Registry = fx.Options,
        RegistryTrust = fx.Trust,
        Rules = [new ImageRule("apps", [fx.Registry.Host + "/shared"], [], ImageRuleMode.Enforce, false, 1,
            [new SignatureAuthority(identity, VerificationPolicy.ForIdentity(IdentityMatcher.Exact(identity), IdentityMatcher.Exact(TestSigstore.DefaultIssuer)))], true, [])],
    };

    [Fact]
    public async Task SharedVerdict_NotReusedAfterTheRuleChanges()
    {
        using var client = fx.Client();
        var image = fx.Image("shared/app");
        var digest = await TestImages.PushImageAsync(client, image);
        var payload = CosignVerifier.SimpleSigningPayload(image, digest);
        var (cert, key) = fx.Sigstore.IssueCertificate();
        var sig = TestSigstore.Sign(key, payload);
        var pem = cert.ExportCertificatePem() + "\n";
        await TestImages.PushLegacySignatureAsync(client, image, payload, new Dictionary<string, string>
        {
            [CosignLayout.SignatureAnnotation] = Convert.ToBase64String(sig),
            [CosignLayout.CertificateAnnotation] = pem,
            [CosignLayout.BundleAnnotation] = fx.Sigstore.RekorBundleAnnotation(fx.Sigstore.LogHashedRekord(SHA256.HashData(payload), sig, pem)),
        });
        var shared = new MemoryStore();
        var pinned = $"{fx.Registry.Host}/shared/app@{digest}";
        using (var before = new ImageVerificationService(Settings(TestSigstore.DefaultIdentity), client, shared: shared))
        {
            Assert.Equal(ImageDecision.Verified, (await before.CheckAsync(pinned, "any", default)).Decision);
        }

        Assert.Single(shared.Entries);
        // The same rule name now trusts another identity: the shared "verified" must not apply.
        using var after = new ImageVerificationService(Settings("https://github.com/other/repo/.github/workflows/release.yml@refs/heads/main"), client, shared: shared);
        var check = await after.CheckAsync(pinned, "any", default);
        Assert.Equal(ImageDecision.Failed, check.Decision);
        Assert.False(check.FromCache);
        Assert.Equal(0, after.Stats.SharedHits);
    }

    [Fact]
    public void Config_RegexTheMatcherCannotRun_IsAConfigErrorNotACrash()
    {
        var dir = Directory.CreateTempSubdirectory("skjold-sc-regex-").FullName;
        File.WriteAllText(Path.Combine(dir, "trusted_root.json"), fx.Sigstore.TrustedRootJson);
        var e = Assert.Throws<Engine.Policy.ConfigException>(() => SupplyChainConfig.Parse("""
            supplyChain:
              trustedRoot: trusted_root.json
              images:
                - name: x
                  images: [registry.example.com]
                  identities: [{issuer: https://a.example, subjectRegExp: '(a)\1'}]
            """, "skjold.yaml", dir));
        Assert.Contains("subjectRegExp", e.Message, StringComparison.Ordinal);
    }
}
