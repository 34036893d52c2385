using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Skjold.Engine.Policy;
using Skjold.Kubernetes.Watch;
using Skjold.Server.Hosting;
using Skjold.Server.Tls;
using Skjold.SupplyChain.Admission;
using Skjold.SupplyChain.Cosign;
using Skjold.SupplyChain.Oci;
using Skjold.SupplyChain.Policy;
using Skjold.SupplyChain.Sigstore;
using Skjold.TestSupport;

namespace Skjold.Benchmarks;

/// <summary>
/// supply-chain [SECONDS]: (1) one Sigstore bundle verification (sigstore-conformance's happy-path bundles);
/// (2) admission of a pod whose image is signed, with a warm verdict cache, at 500 reviews/s against /noop on
/// the same server; (3) cold verification: each admission the first for its image, against a real registry
/// (docker-registry over TLS on loopback) holding keyless cosign signatures from a throwaway Sigstore.
/// </summary>
internal static class SupplyChainBench
{
    public static async Task<int> RunAsync(int seconds)
    {
        BundleVerification();
        using var registry = new OciRegistry();
        using var sigstore = new TestSigstore();
        var options = new RegistryClientOptions
        {
            Credentials = RegistryCredentials.FromDockerConfig(Encoding.UTF8.GetBytes(registry.DockerConfigJson)),
            RequestTimeout = TimeSpan.FromSeconds(2),
        };
        using var client = new RegistryClient(options, [registry.Certificates.Ca]);
        const int Cold = 40;
        var images = new List<(string Image, string Digest)>();
        for (var i = 0; i <= Cold + 1; i++)
        {
            var reference = ImageReference.Parse($"{registry.Host}/bench/app{i}:1.0");
            var digest = await TestImages.PushImageAsync(client, reference);
            var payload = CosignVerifier.SimpleSigningPayload(reference, digest);
            var (cert, key) = sigstore.IssueCertificate();
            var sig = TestSigstore.Sign(key, payload);
            var pem = cert.ExportCertificatePem() + "\n";
            await TestImages.PushLegacySignatureAsync(client, reference, payload, new Dictionary<string, string>
            {
                [CosignLayout.SignatureAnnotation] = Convert.ToBase64String(sig),
                [CosignLayout.CertificateAnnotation] = pem,
                [CosignLayout.BundleAnnotation] = sigstore.RekorBundleAnnotation(sigstore.LogHashedRekord(SHA256.HashData(payload), sig, pem)),
            });
            images.Add(($"{registry.Host}/bench/app{i}@{digest}", digest));
        }

        var authority = new SignatureAuthority("release", VerificationPolicy.ForIdentity(IdentityMatcher.Exact(TestSigstore.DefaultIdentity), IdentityMatcher.Exact(TestSigstore.DefaultIssuer)));
        var settings = new SupplyChainSettings
        {
            TrustedRoot = sigstore.TrustedRoot,
            Registry = options,
            RegistryTrust = [registry.Certificates.Ca],
            Rules = [new ImageRule("bench", [registry.Host + "/bench"], [], ImageRuleMode.Enforce, false, 1, [authority], true, [])],
        };
        using var service = new ImageVerificationService(settings, client);
        var nsFile = Path.Combine(Path.GetTempPath(), $"skjold-sc-bench-{Environment.ProcessId}.yaml");
        await File.WriteAllTextAsync(nsFile, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: payments\n  labels: {pod-security.kubernetes.io/enforce: restricted}\n");
        var cache = new FileNamespaceCache(nsFile);
        var certs = SelfSignedCertificates.Create("skjold", "skjold-system", TimeProvider.System);
        var serve = new ServeOptions
        {
            Listen = new Uri("https://127.0.0.1:0"),
            Certificate = ServerCertificate.FromCertificate(certs.Server, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance),
            EnableNoop = true,
        };
        await using var app = ServerHost.Build(serve, ScanPolicy.Default, _ => cache, logging: b => b.SetMinimumLevel(LogLevel.Error), images: new ImageAdmission(service));
        await app.StartAsync();
        using var handler = new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true }, MaxConnectionsPerServer = 64 };
        using var http = new HttpClient(handler) { BaseAddress = ServerHost.BoundAddress(app), DefaultRequestVersion = HttpVersion.Version11 };

        // (3) cold: the first admission of each image, one at a time, after one admission that warms the process
        // (JIT, the TLS connection to the registry, its token) and is reported on its own.
        var first = Stopwatch.StartNew();
        using (var warmUp = await http.PostAsync("/validate", new StringContent(Review(images[1].Image).Replace("UID", "first", StringComparison.Ordinal), Encoding.UTF8, "application/json")))
        {
            await warmUp.Content.ReadAsStringAsync();
        }

        var firstMs = first.Elapsed.TotalMilliseconds;
        var cold = new List<double>();
        var coldStart = client.Requests;
        foreach (var (image, _) in images.Skip(2))
        {
            var sw = Stopwatch.StartNew();
            using var response = await http.PostAsync("/validate", new StringContent(Review(image).Replace("UID", "cold", StringComparison.Ordinal), Encoding.UTF8, "application/json"));
            var body = await response.Content.ReadAsStringAsync();
            cold.Add(sw.Elapsed.TotalMilliseconds);
            if (!body.Contains("\"allowed\":true", StringComparison.Ordinal))
            {
                Console.Error.WriteLine($"cold admission of {image} was not allowed: {body}");
                return 1;
            }
        }

        cold.Sort();
        Console.WriteLine();
        Console.WriteLine($"Cold verification ({cold.Count} images, each admitted once: tag already a digest, signature manifest + payload blob fetched over TLS, keyless chain + SCT + SET verified):");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  p50 {cold[cold.Count / 2]:F1} ms, p99 {cold[Math.Min(cold.Count - 1, (int)Math.Ceiling(0.99 * cold.Count) - 1)]:F1} ms, max {cold[^1]:F1} ms; {(double)(client.Requests - coldStart) / cold.Count:F1} registry requests per image; the process's first admission: {firstMs:F1} ms"));

        // (2) warm: the same signed image at 500/s, against /noop on the same server.
        var warm = Review(images[0].Image);
        await WebhookLoad.Drive(http, "/noop", 500, TimeSpan.FromSeconds(3), warm);
        await WebhookLoad.Drive(http, "/validate", 500, TimeSpan.FromSeconds(3), warm);
        var before = client.Requests;
        var runs = new Dictionary<string, List<WebhookLoad.Result>> { ["/noop"] = [], ["/validate"] = [] };
        for (var rep = 0; rep < 3; rep++)
        {
            foreach (var endpoint in rep % 2 == 0 ? new[] { "/noop", "/validate" } : ["/validate", "/noop"])
            {
                runs[endpoint].Add(await WebhookLoad.Drive(http, endpoint, 500, TimeSpan.FromSeconds(seconds), warm));
            }
        }

        Console.WriteLine();
        Console.WriteLine($"Warm admission at 500 reviews/s ({Environment.ProcessorCount} cores shared by server, registry and load generator; median of 3 runs of {seconds} s; registry requests during the measured runs: {client.Requests - before}):");
        Console.WriteLine("| endpoint | achieved req/s | p50 (ms) | p99 (ms) | max (ms) | errors |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var (endpoint, list) in runs)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {endpoint} | {WebhookLoad.Median(list.Select(r => r.Achieved)):F0} | {WebhookLoad.Median(list.Select(r => r.P50)):F3} | {WebhookLoad.Median(list.Select(r => r.P99)):F3} | {list.Max(r => r.Max):F3} | {list.Sum(r => r.Errors)} |"));
        }

        File.Delete(nsFile);
        return 0;
    }

    private static void BundleVerification()
    {
        var peers = Path.Combine(RepoPaths.Peers, "sigstore");
        var root = TrustedRoot.Load(Path.Combine(peers, "public-good-trusted_root.json"));
        var artifact = Artifact.FromBytes(File.ReadAllBytes(Path.Combine(peers, "bundle-verify", "a.txt")));
        var policy = VerificationPolicy.ForIdentity(
            IdentityMatcher.Exact("https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"),
            IdentityMatcher.Exact("https://token.actions.githubusercontent.com"));
        Console.WriteLine("One Sigstore bundle verification (parse + every check), median of 7 rounds of 200:");
        foreach (var name in new[] { "happy-path-v0.3", "happy-path-v0.1", "rekor2-happy-path" })
        {
            var dir = Path.Combine(peers, "bundle-verify", name);
            var caseRoot = File.Exists(Path.Combine(dir, "trusted_root.json")) ? TrustedRoot.Load(Path.Combine(dir, "trusted_root.json")) : root;
            var verifier = new BundleVerifier(caseRoot);
            var bytes = File.ReadAllBytes(Path.Combine(dir, "bundle.sigstore.json"));
            if (!verifier.Verify(bytes, artifact, policy).Verified)
            {
                throw new InvalidOperationException($"{name} did not verify");
            }

            var perOp = Timing.Median(7, () =>
            {
                for (var i = 0; i < 200; i++)
                {
                    verifier.Verify(bytes, artifact, policy);
                }
            }) / 200;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name}: {perOp * 1000:F0} µs"));
        }
    }

    private static string Review(string image) =>
        """
        {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"UID","kind":{"group":"","version":"v1","kind":"Pod"},
        "resource":{"group":"","version":"v1","resource":"pods"},"namespace":"payments","operation":"CREATE",
        "userInfo":{"username":"system:serviceaccount:kube-system:replicaset-controller","groups":["system:serviceaccounts"]},
        "object":{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"ledger-","namespace":"payments"},
        "spec":{"automountServiceAccountToken":false,"securityContext":{"runAsNonRoot":true,"runAsUser":10001,"seccompProfile":{"type":"RuntimeDefault"}},
        "containers":[{"name":"app","image":"IMAGE","resources":{"requests":{"cpu":"100m","memory":"128Mi"},"limits":{"memory":"256Mi"}},
        "securityContext":{"allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true,"capabilities":{"drop":["ALL"]}}}]}}}}
        """.Replace("IMAGE", image, StringComparison.Ordinal);
}
