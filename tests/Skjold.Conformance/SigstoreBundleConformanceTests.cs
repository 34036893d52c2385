using System.Globalization;
using System.Text;
using Skjold.SupplyChain.Crypto;
using Skjold.SupplyChain.Sigstore;
using Skjold.TestSupport;
using Xunit.Abstractions;

namespace Skjold.Conformance;

/// <summary>
/// sigstore-conformance's bundle-verify cases (../shared/peers/sigstore/bundle-verify), run as its README
/// says: each case's bundle over its artifact (else a.txt), with its identity and issuer (else the
/// conformance beacon's), its key.pub when present (key-based verification), its trusted_root.json (else
/// the public-good root). A case ending _fail must be rejected, every other accepted. The count and every
/// disagreement go to artifacts/sigstore-conformance.txt.
/// </summary>
public sealed class SigstoreBundleConformanceTests(ITestOutputHelper output)
{
    private const string DefaultIdentity = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
    private const string DefaultIssuer = "https://token.actions.githubusercontent.com";

    private static string Dir => Path.Combine(RepoPaths.Peers, "sigstore");

    internal static IEnumerable<string> Cases() =>
        Directory.GetDirectories(Path.Combine(Dir, "bundle-verify")).Order(StringComparer.Ordinal);

    /// <summary>Verifies one case as the conformance suite's client would; returns the verdict.</summary>
    internal static VerificationResult Run(string dir)
    {
        var artifactPath = File.Exists(Path.Combine(dir, "artifact")) ? Path.Combine(dir, "artifact") : Path.Combine(Dir, "bundle-verify", "a.txt");
        var rootPath = File.Exists(Path.Combine(dir, "trusted_root.json")) ? Path.Combine(dir, "trusted_root.json") : Path.Combine(Dir, "public-good-trusted_root.json");
        TrustedRoot root;
        try
        {
            root = TrustedRoot.Load(rootPath);
        }
        catch (SigstoreException e)
        {
            return VerificationResult.Fail(e.Message);
        }

        var keyPath = Path.Combine(dir, "key.pub");
        VerificationPolicy policy;
        try
        {
            policy = File.Exists(keyPath)
            ? VerificationPolicy.ForKey(VerifyingKey.FromPem(File.ReadAllText(keyPath)))
            : VerificationPolicy.ForIdentity(
                IdentityMatcher.Exact(ReadOr(Path.Combine(dir, "identity"), DefaultIdentity)),
                IdentityMatcher.Exact(ReadOr(Path.Combine(dir, "issuer"), DefaultIssuer)));
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            return VerificationResult.Fail("key.pub: " + e.Message);
        }

        var verifier = new BundleVerifier(root);
        return verifier.Verify(File.ReadAllBytes(Path.Combine(dir, "bundle.sigstore.json")), Artifact.FromBytes(File.ReadAllBytes(artifactPath)), policy);
    }

    private static string ReadOr(string path, string fallback) => File.Exists(path) ? File.ReadAllText(path).Trim() : fallback;

    [Fact]
    public void SigstoreConformanceCases_Agree()
    {
        int run = 0, agree = 0;
        var report = new StringBuilder();
        foreach (var dir in Cases())
        {
            var name = Path.GetFileName(dir);
            var expectPass = !name.EndsWith("_fail", StringComparison.Ordinal);
            var result = Run(dir);
            run++;
            var ok = result.Verified == expectPass;
            if (ok)
            {
                agree++;
            }

            report.AppendLine(CultureInfo.InvariantCulture,
                $"{(ok ? "agree" : "DISAGREE")} {name}: {(result.Verified ? "verified" : "rejected: " + result.Failure)}");
        }

        var summary = $"Sigstore bundle cases: {agree}/{run} agree";
        output.WriteLine(summary);
        output.WriteLine(report.ToString());
        File.WriteAllText(RepoPaths.Artifact("sigstore-conformance.txt"), summary + "\n" + report);
        Assert.True(run >= 70, $"only {run} cases ran");
        Assert.Equal(run, agree);
    }
}
