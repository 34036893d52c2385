using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Skjold.SupplyChain.Admission;
using Skjold.SupplyChain.Cosign;
using Skjold.SupplyChain.Oci;
using Skjold.SupplyChain.Policy;
using Skjold.SupplyChain.Sigstore;
using Skjold.TestSupport;

namespace Skjold.Server.Tests;

/// <summary>
/// The webhook with a supply-chain policy against a real registry (docker-registry over TLS, basic auth) holding
/// images signed by a throwaway Sigstore: signed images pass and are pinned to their digest on /mutate, unsigned
/// ones are denied where the rule enforces and warned about where it warns, verdicts are cached, and a registry
/// that is down denies in enforced namespaces (fail closed) and only warns elsewhere.
/// </summary>
public sealed class SupplyChainAdmissionTests : IAsyncLifetime
{
    private readonly OciRegistry _registry = new();
    private readonly TestSigstore _sigstore = new();
    private RegistryClient _client = null!;
    private ImageVerificationService _service = null!;
    private WebhookServer _server = null!;
    private string _signed = "";
    private string _signedDigest = "";
    private string _unsigned = "";
    private string _vulnerableDigest = "";
    private const string ReportToken = "ci-report-token-0123456789";

    public async Task InitializeAsync()
    {
        var options = new RegistryClientOptions
        {
            Credentials = RegistryCredentials.FromDockerConfig(Encoding.UTF8.GetBytes(_registry.DockerConfigJson)),
            // The library's default (10 s), not 2 s: the set-up pushes images over TLS while other test
            // projects load both cores, and a push that took longer failed the whole class in CI once.
        };
        _client = new RegistryClient(options, [_registry.Certificates.Ca]);
        var signed = ImageReference.Parse($"{_registry.Host}/payments/ledger:2.0");
        _signedDigest = await TestImages.PushImageAsync(_client, signed);
        var payload = CosignVerifier.SimpleSigningPayload(signed, _signedDigest);
        var (cert, key) = _sigstore.IssueCertificate();
        var sig = TestSigstore.Sign(key, payload);
        var pem = cert.ExportCertificatePem() + "\n";
        var entry = _sigstore.LogHashedRekord(SHA256.HashData(payload), sig, pem);
        await TestImages.PushLegacySignatureAsync(_client, signed, payload, new Dictionary<string, string>
        {
            [CosignLayout.SignatureAnnotation] = Convert.ToBase64String(sig),
            [CosignLayout.CertificateAnnotation] = pem,
            [CosignLayout.BundleAnnotation] = _sigstore.RekorBundleAnnotation(entry),
        });
        var unsigned = ImageReference.Parse($"{_registry.Host}/payments/unsigned:1.0");
        await TestImages.PushImageAsync(_client, unsigned);
        _signed = $"{_registry.Host}/payments/ledger:2.0";
        _unsigned = $"{_registry.Host}/payments/unsigned:1.0";
        _vulnerableDigest = await TestImages.PushImageAsync(_client, ImageReference.Parse($"{_registry.Host}/vuln/app:1"));

        var authority = new SignatureAuthority("release workflow", VerificationPolicy.ForIdentity(IdentityMatcher.Exact(TestSigstore.DefaultIdentity), IdentityMatcher.Exact(TestSigstore.DefaultIssuer)));
        var settings = new SupplyChainSettings
        {
            TrustedRoot = _sigstore.TrustedRoot,
            Registry = options,
            RegistryTrust = [_registry.Certificates.Ca],
            Rules =
            [
                new ImageRule("payments", [_registry.Host + "/payments"], ["baseline-ns", "mutating-ns"], ImageRuleMode.Enforce, true, 1, [authority], true, []),
                new ImageRule("elsewhere", [_registry.Host], [], ImageRuleMode.Warn, false, 1, [authority], true, []),
            ],
            Vulnerabilities = new Skjold.SupplyChain.Vulnerabilities.VulnerabilityPolicy
            {
                Images = [_registry.Host + "/vuln"],
                Namespaces = ["privileged-ns"],
                ReportToken = ReportToken,
            },
        };
        _service = new ImageVerificationService(settings, _client);
        _server = await WebhookServer.StartAsync(images: new ImageAdmission(_service));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _service.Dispose();
        _client.Dispose();
        _registry.Dispose();
        _sigstore.Dispose();
    }

    private static string Pod(string image) => $$"""
        apiVersion: v1
        kind: Pod
        metadata: {name: app}
        spec:
          containers:
          - name: app
            image: {{image}}
        """;

    private static JsonElement Response(JsonElement review) => review.GetProperty("response");

    [Fact]
    public async Task Validate_SignedImage_Allowed()
    {
        var r = Response(await _server.ReviewAsync("/validate", WebhookServer.Review(Pod(_signed), "baseline-ns")));
        Assert.True(r.GetProperty("allowed").GetBoolean(), r.ToString());
        Assert.Contains("verified", r.GetProperty("auditAnnotations").GetProperty(SupplyChainVerdictAnnotation).GetString(), StringComparison.Ordinal);
    }

    private const string SupplyChainVerdictAnnotation = "skjold.io/images";

    [Fact]
    public async Task Validate_UnsignedImageInEnforcedNamespace_Denied()
    {
        var r = Response(await _server.ReviewAsync("/validate", WebhookServer.Review(Pod(_unsigned), "baseline-ns")));
        Assert.False(r.GetProperty("allowed").GetBoolean());
        var message = r.GetProperty("status").GetProperty("message").GetString()!;
        Assert.Contains("has no signature", message, StringComparison.Ordinal);
        Assert.Contains("container app", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_UnsignedImageUnderWarningRule_AllowedWithWarning()
    {
        var r = Response(await _server.ReviewAsync("/validate", WebhookServer.Review(Pod(_unsigned), "privileged-ns")));
        Assert.True(r.GetProperty("allowed").GetBoolean());
        Assert.Contains(r.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("only warns", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Mutate_SignedImage_PinnedToVerifiedDigest()
    {
        var r = Response(await _server.ReviewAsync("/mutate", WebhookServer.Review(Pod(_signed), "mutating-ns")));
        Assert.True(r.GetProperty("allowed").GetBoolean(), r.ToString());
        var patch = Encoding.UTF8.GetString(Convert.FromBase64String(r.GetProperty("patch").GetString()!));
        using var doc = JsonDocument.Parse(patch);
        var pin = doc.RootElement.EnumerateArray().Single(op => op.GetProperty("path").GetString() == "/spec/containers/0/image");
        Assert.Equal($"{_registry.Host}/payments/ledger@{_signedDigest}", pin.GetProperty("value").GetString());
    }

    [Fact]
    public async Task Validate_SecondAdmission_NoRegistryRequest()
    {
        var pinned = $"{_registry.Host}/payments/ledger@{_signedDigest}";
        Assert.True(Response(await _server.ReviewAsync("/validate", WebhookServer.Review(Pod(pinned), "baseline-ns"))).GetProperty("allowed").GetBoolean());
        var before = _client.Requests;
        Assert.True(Response(await _server.ReviewAsync("/validate", WebhookServer.Review(Pod(pinned), "baseline-ns"))).GetProperty("allowed").GetBoolean());
        Assert.Equal(before, _client.Requests);
        Assert.True(_service.Stats.CacheHits > 0);
    }

    [Fact]
    public async Task Validate_RegistryDown_FailsClosedWhereEnforcedAndWarnsElsewhere()
    {
        _registry.Stop();
        try
        {
            var fresh = $"{_registry.Host}/payments/other:9";
            var enforced = Response(await _server.ReviewAsync("/validate", WebhookServer.Review(Pod(fresh), "baseline-ns")));
            Assert.False(enforced.GetProperty("allowed").GetBoolean());
            Assert.Contains("unreachable", enforced.GetProperty("status").GetProperty("message").GetString(), StringComparison.Ordinal);
            var warned = Response(await _server.ReviewAsync("/validate", WebhookServer.Review(Pod($"{_registry.Host}/tools/x:1"), "privileged-ns")));
            Assert.True(warned.GetProperty("allowed").GetBoolean());
            Assert.NotEmpty(warned.GetProperty("warnings").EnumerateArray());
            using var metrics = await _server.Client.GetAsync("/metrics");
            var text = await metrics.Content.ReadAsStringAsync();
            Assert.Contains("skjold_image_registry_unavailable_total", text, StringComparison.Ordinal);
            Assert.Contains("skjold_image_checks_total{decision=\"unavailable\"}", text, StringComparison.Ordinal);
        }
        finally
        {
            _registry.Restart();
        }
    }

    [Fact]
    public async Task Validate_VulnerabilityGate_NoReportThenPostedReportDecides()
    {
        var image = $"{_registry.Host}/vuln/app:1";
        var before = Response(await _server.ReviewAsync("/validate", WebhookServer.Review(Pod(image), "privileged-ns")));
        Assert.False(before.GetProperty("allowed").GetBoolean());
        Assert.Contains("no vulnerability scan result", before.GetProperty("status").GetProperty("message").GetString(), StringComparison.Ordinal);

        var trivy = """
            {"SchemaVersion": 2, "CreatedAt": "CREATED", "ArtifactName": "vuln/app:1", "ArtifactType": "container_image",
             "Results": [{"Target": "app", "Vulnerabilities": [
               {"VulnerabilityID": "CVE-2019-14697", "PkgName": "musl", "InstalledVersion": "1.1.20-r4", "FixedVersion": "1.1.20-r5", "Severity": "CRITICAL", "PublishedDate": "2019-08-06T16:15:00Z"}]}]}
            """.Replace("CREATED", DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        using (var unauthorised = await _server.PostAsync($"/supply-chain/reports?digest={_vulnerableDigest}", trivy))
        {
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, unauthorised.StatusCode);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, $"/supply-chain/reports?digest={_vulnerableDigest}") { Content = new StringContent(trivy, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ReportToken);
        using (var posted = await _server.Client.SendAsync(request))
        {
            Assert.Equal(System.Net.HttpStatusCode.Created, posted.StatusCode);
            Assert.Contains("1 critical", await posted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var after = Response(await _server.ReviewAsync("/validate", WebhookServer.Review(Pod(image), "privileged-ns")));
        Assert.False(after.GetProperty("allowed").GetBoolean());
        Assert.Contains("CVE-2019-14697 in musl", after.GetProperty("status").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_ImageNotCoveredByAnyRule_Untouched()
    {
        var r = Response(await _server.ReviewAsync("/validate", WebhookServer.Review(Pod("registry.k8s.io/pause:3.9"), "baseline-ns")));
        Assert.True(r.GetProperty("allowed").GetBoolean());
        Assert.False(r.TryGetProperty("auditAnnotations", out var a) && a.TryGetProperty(SupplyChainVerdictAnnotation, out _));
        if (r.TryGetProperty("warnings", out var w) && w.ValueKind == JsonValueKind.Array)
        {
            Assert.DoesNotContain(w.EnumerateArray(), x => x.GetString()!.Contains("image", StringComparison.Ordinal));
        }
    }
}
