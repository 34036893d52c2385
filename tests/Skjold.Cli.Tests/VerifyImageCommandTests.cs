using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Skjold.SupplyChain.Cosign;
using Skjold.SupplyChain.Oci;
using Skjold.TestSupport;

namespace Skjold.Cli.Tests;

/// <summary>A registry with signed and unsigned images for the verify-image tests (a real docker-registry).</summary>
public sealed class SignedRegistryFixture : IAsyncLifetime
{
    public OciRegistry Registry { get; } = new();

    public TestSigstore Sigstore { get; } = new();

    public string Dir { get; } = Directory.CreateTempSubdirectory("skjold-verify-").FullName;

    public string KeylessImage => $"{Registry.Host}/apps/keyless:1.0";

    public string KeyImage => $"{Registry.Host}/apps/keyed:1.0";

    public string OfflineImage => $"{Registry.Host}/apps/offline:1.0";

    public string UnsignedImage => $"{Registry.Host}/apps/unsigned:1.0";

    public string KeylessDigest { get; private set; } = "";

    public string UnsignedDigest { get; private set; } = "";

    public async Task InitializeAsync()
    {
        File.WriteAllText(Path.Combine(Dir, "trusted_root.json"), Sigstore.TrustedRootJson);
        File.WriteAllText(Path.Combine(Dir, "config.json"), Registry.DockerConfigJson);
        File.Copy(Registry.Certificates.CaFile, Path.Combine(Dir, "registry-ca.pem"));
        using var client = new RegistryClient(new RegistryClientOptions { Credentials = RegistryCredentials.FromDockerConfig(Encoding.UTF8.GetBytes(Registry.DockerConfigJson)) }, [Registry.Certificates.Ca]);

        var keyless = ImageReference.Parse(KeylessImage);
        var digest = await TestImages.PushImageAsync(client, keyless);
        KeylessDigest = digest;
        var payload = CosignVerifier.SimpleSigningPayload(keyless, digest);
        var (cert, certKey) = Sigstore.IssueCertificate();
        var sig = TestSigstore.Sign(certKey, payload);
        var pem = cert.ExportCertificatePem() + "\n";
        await TestImages.PushLegacySignatureAsync(client, keyless, payload, new Dictionary<string, string>
        {
            [CosignLayout.SignatureAnnotation] = Convert.ToBase64String(sig),
            [CosignLayout.CertificateAnnotation] = pem,
            [CosignLayout.BundleAnnotation] = Sigstore.RekorBundleAnnotation(Sigstore.LogHashedRekord(SHA256.HashData(payload), sig, pem)),
        });

        using var key = TestSigstore.NewKey();
        File.WriteAllText(Path.Combine(Dir, "cosign.pub"), TestSigstore.PublicKeyPem(key));
        foreach (var (image, tlog) in new[] { (KeyImage, true), (OfflineImage, false) })
        {
            var r = ImageReference.Parse(image);
            var d = await TestImages.PushImageAsync(client, r);
            var p = CosignVerifier.SimpleSigningPayload(r, d);
            var s = TestSigstore.Sign(key, p);
            var annotations = new Dictionary<string, string> { [CosignLayout.SignatureAnnotation] = Convert.ToBase64String(s) };
            if (tlog)
            {
                annotations[CosignLayout.BundleAnnotation] = Sigstore.RekorBundleAnnotation(Sigstore.LogHashedRekord(SHA256.HashData(p), s, TestSigstore.PublicKeyPem(key)));
            }

            await TestImages.PushLegacySignatureAsync(client, r, p, annotations);
        }

        UnsignedDigest = await TestImages.PushImageAsync(client, ImageReference.Parse(UnsignedImage));
    }

    public Task DisposeAsync()
    {
        Registry.Dispose();
        Sigstore.Dispose();
        Directory.Delete(Dir, true);
        return Task.CompletedTask;
    }
}

public sealed class VerifyImageCommandTests(SignedRegistryFixture fx) : IClassFixture<SignedRegistryFixture>
{
    private CliRun Run(params string[] args) =>
        CliRunner.Run(fx.Dir, null, ["verify-image", "--registry-config", "config.json", "--registry-ca", "registry-ca.pem", .. args]);

    [Fact]
    public void VerifyImage_KeylessIdentity_Exit0()
    {
        var run = Run("--trusted-root", "trusted_root.json", "--identity", TestSigstore.DefaultIdentity, "--issuer", TestSigstore.DefaultIssuer, fx.KeylessImage);
        Assert.True(run.ExitCode == 0, run.Out + run.Error);
        Assert.StartsWith("VERIFIED", run.Out, StringComparison.Ordinal);
        Assert.Contains("@sha256:", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void VerifyImage_IdentityRegexpThatDoesNotMatch_Exit1()
    {
        var run = Run("--trusted-root", "trusted_root.json", "--identity-regexp", "https://github.com/someone-else/.+", "--issuer", TestSigstore.DefaultIssuer, fx.KeylessImage);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("is not", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void VerifyImage_Key_Exit0_UnsignedExit1_Json()
    {
        var run = Run("--trusted-root", "trusted_root.json", "--key", "cosign.pub", "-f", "json", fx.KeyImage, fx.UnsignedImage);
        Assert.Equal(1, run.ExitCode);
        using var doc = JsonDocument.Parse(run.Out);
        var results = doc.RootElement.EnumerateArray().ToList();
        Assert.Equal("verified", results[0].GetProperty("decision").GetString());
        Assert.Equal("failed", results[1].GetProperty("decision").GetString());
        Assert.Contains("has no signature", results[1].GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void VerifyImage_OfflineKeySignature_NeedsInsecureIgnoreTlog()
    {
        Assert.Equal(1, Run("--trusted-root", "trusted_root.json", "--key", "cosign.pub", fx.OfflineImage).ExitCode);
        var run = Run("--key", "cosign.pub", "--insecure-ignore-tlog", fx.OfflineImage);
        Assert.True(run.ExitCode == 0, run.Out + run.Error);
    }

    [Fact]
    public void VerifyImage_FromSkjoldYamlRules_Exit0()
    {
        var dir = Directory.CreateTempSubdirectory("skjold-verify-cfg-").FullName;
        foreach (var f in new[] { "trusted_root.json", "config.json", "registry-ca.pem", "cosign.pub" })
        {
            File.Copy(Path.Combine(fx.Dir, f), Path.Combine(dir, f));
        }

        File.WriteAllText(Path.Combine(dir, "skjold.yaml"), $"""
            supplyChain:
              trustedRoot: trusted_root.json
              registryConfig: config.json
              caFile: registry-ca.pem
              images:
                - name: apps
                  images: ["{fx.Registry.Host}/apps"]
                  namespaces: [payments]
                  keys: [cosign.pub]
                  identities:
                    - issuer: {TestSigstore.DefaultIssuer}
                      subject: {TestSigstore.DefaultIdentity}
            """);
        var run = CliRunner.Run(dir, null, "verify-image", "-n", "payments", fx.KeylessImage, fx.KeyImage);
        Assert.True(run.ExitCode == 0, run.Out + run.Error);
        var other = CliRunner.Run(dir, null, "verify-image", "-n", "dev", fx.UnsignedImage);
        Assert.Equal(1, other.ExitCode);
        Assert.StartsWith("NOT COVERED", other.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void VerifyImage_UsageErrors_Exit2()
    {
        var none = Run(fx.KeyImage);
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("nothing to verify against", none.Error, StringComparison.Ordinal);
        var half = Run("--trusted-root", "trusted_root.json", "--identity", "me@example.com", fx.KeyImage);
        Assert.Equal(2, half.ExitCode);
        Assert.Contains("needs both an identity", half.Error, StringComparison.Ordinal);
        var noRoot = Run("--identity", "me@example.com", "--issuer", "https://a.example", fx.KeyImage);
        Assert.Equal(2, noRoot.ExitCode);
        Assert.Contains("--trusted-root", noRoot.Error, StringComparison.Ordinal);
    }
}
