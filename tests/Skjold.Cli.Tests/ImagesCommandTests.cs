using System.Text.Json;

namespace Skjold.Cli.Tests;

/// <summary>skjold images, scan --verify-images and report --verify-images against the real registry of the verify-image tests.</summary>
public sealed class ImagesCommandTests(SignedRegistryFixture fx) : IClassFixture<SignedRegistryFixture>
{
    private string Workspace()
    {
        var dir = Directory.CreateTempSubdirectory("skjold-images-").FullName;
        foreach (var f in new[] { "trusted_root.json", "config.json", "registry-ca.pem" })
        {
            File.Copy(Path.Combine(fx.Dir, f), Path.Combine(dir, f));
        }

        Directory.CreateDirectory(Path.Combine(dir, "reports"));
        File.WriteAllText(Path.Combine(dir, "reports", "keyless.json"), $$"""
            {"SchemaVersion": 2, "CreatedAt": "{{DateTimeOffset.UtcNow:O}}", "ArtifactName": "{{fx.KeylessImage}}", "ArtifactType": "container_image",
             "Metadata": {"RepoDigests": ["{{fx.Registry.Host}}/apps/keyless@{{fx.KeylessDigest}}"]},
             "Results": [{"Target": "app", "Vulnerabilities": [
               {"VulnerabilityID": "CVE-2019-14697", "PkgName": "musl", "InstalledVersion": "1.1.20-r4", "FixedVersion": "1.1.20-r5", "Severity": "CRITICAL", "PublishedDate": "2019-08-06T16:15:00Z"}]}]}
            """);
        File.WriteAllText(Path.Combine(dir, "skjold.yaml"), $"""
            supplyChain:
              trustedRoot: trusted_root.json
              registryConfig: config.json
              caFile: registry-ca.pem
              images:
                - name: apps
                  images: ["{fx.Registry.Host}/apps"]
                  identities:
                    - issuer: {Skjold.TestSupport.TestSigstore.DefaultIssuer}
                      subject: {Skjold.TestSupport.TestSigstore.DefaultIdentity}
              vulnerabilities:
                images: ["{fx.Registry.Host}/apps"]
                reports: [reports]
            """);
        File.WriteAllText(Path.Combine(dir, "workloads.yaml"), $"""
            apiVersion: v1
            kind: Pod
            metadata: {"{"}name: ledger, namespace: payments{"}"}
            spec:
              containers:
              - name: ledger
                image: {fx.KeylessImage}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {"{"}name: tool, namespace: payments{"}"}
            spec:
              selector: {"{"}matchLabels: {"{"}app: tool{"}}"}
              template:
                metadata: {"{"}labels: {"{"}app: tool{"}}"}
                spec:
                  containers:
                  - name: tool
                    image: {fx.UnsignedImage}
            """);
        return dir;
    }

    [Fact]
    public void Images_Verify_JsonShowsSignerScanAndLocation_Exit1ForUnsigned()
    {
        var dir = Workspace();
        var run = CliRunner.Run(dir, null, "images", "workloads.yaml", "--verify", "-f", "json");
        Assert.True(run.ExitCode == 1, run.Out + run.Error);
        using var doc = JsonDocument.Parse(run.Out);
        var entries = doc.RootElement.EnumerateArray().ToDictionary(e => e.GetProperty("repository").GetString()!);
        var keyless = entries["apps/keyless"];
        Assert.Equal("verified", keyless.GetProperty("signature").GetString());
        Assert.Equal(Skjold.TestSupport.TestSigstore.DefaultIdentity, keyless.GetProperty("signedBy").GetString());
        Assert.Equal(fx.KeylessDigest, keyless.GetProperty("digest").GetString());
        Assert.StartsWith("1 critical", keyless.GetProperty("vulnerabilities").GetString(), StringComparison.Ordinal);
        var unsigned = entries["apps/unsigned"];
        Assert.Equal("failed", unsigned.GetProperty("signature").GetString());
        Assert.Equal("Deployment", unsigned.GetProperty("locations")[0].GetProperty("kind").GetString());
    }

    [Fact]
    public void Images_CycloneDx_OneContainerComponentPerImage()
    {
        var dir = Workspace();
        var run = CliRunner.Run(dir, null, "images", "workloads.yaml", "--verify", "-f", "cyclonedx");
        using var doc = JsonDocument.Parse(run.Out);
        Assert.Equal("CycloneDX", doc.RootElement.GetProperty("bomFormat").GetString());
        Assert.Equal("1.5", doc.RootElement.GetProperty("specVersion").GetString());
        var components = doc.RootElement.GetProperty("components").EnumerateArray().ToList();
        Assert.Equal(2, components.Count);
        Assert.All(components, c => Assert.Equal("container", c.GetProperty("type").GetString()));
        var keyless = components.Single(c => c.GetProperty("name").GetString()!.EndsWith("apps/keyless", StringComparison.Ordinal));
        Assert.Contains("@sha256%3A", keyless.GetProperty("purl").GetString(), StringComparison.Ordinal);
        Assert.Equal(fx.KeylessDigest[7..], keyless.GetProperty("hashes")[0].GetProperty("content").GetString());
        Assert.Contains(keyless.GetProperty("properties").EnumerateArray(), p => p.GetProperty("name").GetString() == "skjold:signed-by");
    }

    [Fact]
    public void Scan_VerifyImages_AddsSupplyChainFindingsOnlyWhenAsked()
    {
        var dir = Workspace();
        var plain = CliRunner.Run(dir, null, "scan", "workloads.yaml", "-f", "json", "--fail-on", "critical");
        Assert.DoesNotContain("sc/image-", plain.Out, StringComparison.Ordinal);
        var run = CliRunner.Run(dir, null, "scan", "workloads.yaml", "-f", "json", "--verify-images", "--fail-on", "critical");
        using var doc = JsonDocument.Parse(run.Out);
        var ids = doc.RootElement.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("checkId").GetString()).ToList();
        Assert.Contains("sc/image-signature", ids);   // the unsigned tool image
        Assert.Contains("sc/image-vulnerable", ids);  // the keyless image's fixable critical CVE
        Assert.Contains("sc/image-not-scanned", ids); // the unsigned image has no scan result
    }

    [Fact]
    public void Report_VerifyImages_MeasuresSupplyChainControls()
    {
        var dir = Workspace();
        var without = CliRunner.Run(dir, null, "report", "workloads.yaml", "--framework", "iso27001", "-f", "json");
        var with = CliRunner.Run(dir, null, "report", "workloads.yaml", "--framework", "iso27001", "-f", "json", "--verify-images");
        Assert.True(with.ExitCode == 0, with.Error);
        // Without --verify-images the supply-chain checks did not run, and the report says so rather than passing them.
        Assert.Equal("not evaluated", Outcome(without.Out, "5.21", "sc/image-signature"));
        Assert.Equal("not evaluated", Outcome(without.Out, "8.8", "sc/image-vulnerable"));
        Assert.Equal("fail", Outcome(with.Out, "5.21", "sc/image-signature"));
        Assert.Equal("fail", Outcome(with.Out, "8.8", "sc/image-vulnerable"));
        Assert.Contains("supply chain (registry signatures and scan results)", with.Out, StringComparison.Ordinal);
    }

    private static string Outcome(string reportJson, string control, string check)
    {
        using var doc = JsonDocument.Parse(reportJson);
        var c = doc.RootElement.GetProperty("controls").EnumerateArray().Single(x => x.GetProperty("id").GetString() == control);
        return c.GetProperty("checks").EnumerateArray().Single(x => x.GetProperty("id").GetString() == check).GetProperty("outcome").GetString()!;
    }

    [Fact]
    public void Images_Snapshot_DigestFromImageIdAndOperatorReport()
    {
        var dir = Directory.CreateTempSubdirectory("skjold-images-snap-").FullName;
        const string Digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
        File.WriteAllText(Path.Combine(dir, "snapshot.yaml"), $$"""
            apiVersion: v1
            kind: Pod
            metadata: {name: ledger-7d9f8-abcde, namespace: payments}
            spec:
              containers:
              - {name: ledger, image: "registry.example.com/payments/ledger:2.0"}
            status:
              containerStatuses:
              - {name: ledger, image: "registry.example.com/payments/ledger:2.0", imageID: "registry.example.com/payments/ledger@{{Digest}}"}
            ---
            apiVersion: aquasecurity.github.io/v1alpha1
            kind: VulnerabilityReport
            metadata: {name: replicaset-ledger-7d9f8-ledger, namespace: payments}
            report:
              updateTimestamp: "2026-11-28T10:00:00Z"
              registry: {server: registry.example.com}
              artifact: {repository: payments/ledger, tag: "2.0", digest: "{{Digest}}"}
              vulnerabilities:
                - {vulnerabilityID: CVE-2023-0286, resource: libssl3, installedVersion: 3.0.7-r0, fixedVersion: 3.0.8-r0, severity: HIGH}
            """);
        var run = CliRunner.Run(dir, null, "images", "snapshot.yaml", "-f", "json");
        Assert.True(run.ExitCode == 0, run.Out + run.Error);
        using var doc = JsonDocument.Parse(run.Out);
        var entry = Assert.Single(doc.RootElement.EnumerateArray());
        Assert.Equal(Digest, entry.GetProperty("digest").GetString());
        Assert.StartsWith("1 high (trivy-operator, 2026-11-28)", entry.GetProperty("vulnerabilities").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Images_NoInput_Exit2()
    {
        var run = CliRunner.Run(fx.Dir, null, "images");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("give a snapshot", run.Error, StringComparison.Ordinal);
    }
}
