using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Skjold.Engine.Checks;
using Skjold.Engine.Policy;
using Skjold.Server.Hosting;
using Skjold.Kubernetes.Watch;
using Skjold.Server.Observability;
using Skjold.Server.Tls;

namespace Skjold.Server.Tests;

/// <summary>
/// A real `skjold serve` host on loopback (Kestrel, TLS with a generated CA, port 0) and an
/// HttpClient that trusts only that CA.
/// </summary>
internal sealed class WebhookServer : IAsyncDisposable
{
    private WebhookServer(WebApplication app, HttpClient client, RecordingSink sink, SelfSignedCertificates.Generated certs)
    {
        App = app;
        Client = client;
        Sink = sink;
        Certificates = certs;
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public RecordingSink Sink { get; }

    public SelfSignedCertificates.Generated Certificates { get; }

    public const string Namespaces = """
        apiVersion: v1
        kind: List
        items:
        - apiVersion: v1
          kind: Namespace
          metadata: {name: baseline-ns, labels: {pod-security.kubernetes.io/enforce: baseline, pod-security.kubernetes.io/warn: restricted, pod-security.kubernetes.io/audit: restricted}}
        - apiVersion: v1
          kind: Namespace
          metadata: {name: restricted-ns, labels: {pod-security.kubernetes.io/enforce: restricted}}
        - apiVersion: v1
          kind: Namespace
          metadata: {name: mutating-ns, labels: {pod-security.kubernetes.io/enforce: restricted, skjold.io/mutate: enabled}}
        - apiVersion: v1
          kind: Namespace
          metadata: {name: privileged-ns, labels: {pod-security.kubernetes.io/enforce: privileged, pod-security.kubernetes.io/warn: privileged, pod-security.kubernetes.io/audit: privileged}}
        """;

    public static async Task<WebhookServer> StartAsync(
        string? config = null,
        INamespaceCache? cache = null,
        TimeSpan? requestTimeout = null,
        long? maxBody = null,
        Func<ServerCertificate>? certificate = null,
        IAdmissionDecisionSink? decisionSink = null,
        Skjold.SupplyChain.Admission.ImageAdmission? images = null)
    {
        var certs = SelfSignedCertificates.Create("skjold", "skjold-system", TimeProvider.System);
        var policy = config is null ? ScanPolicy.Default : ConfigParser.Parse(config, "skjold.yaml", CheckCatalog.Default);
        if (cache is null)
        {
            var file = Path.Combine(Path.GetTempPath(), $"skjold-ns-{Guid.NewGuid():N}.yaml");
            await File.WriteAllTextAsync(file, Namespaces);
            cache = new FileNamespaceCache(file);
            File.Delete(file);
        }

        var sink = new RecordingSink();
        var options = new ServeOptions
        {
            Listen = new Uri("https://127.0.0.1:0"),
            Certificate = certificate?.Invoke() ?? ServerCertificate.FromCertificate(certs.Server, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance),
            RequestTimeout = requestTimeout ?? TimeSpan.FromSeconds(5),
            MaxRequestBodyBytes = maxBody ?? 3L * 1024 * 1024,
            ShutdownTimeout = TimeSpan.FromSeconds(10),
            EnableNoop = true,
        };
        var app = ServerHost.Build(options, policy, _ => cache, decisionSink ?? sink, logging: b => b.SetMinimumLevel(LogLevel.Warning), images: images);
        await app.StartAsync();
        var address = ServerHost.BoundAddress(app);
        var client = new HttpClient(TrustingHandler(certs.CaPem)) { BaseAddress = address };
        return new WebhookServer(app, client, sink, certs);
    }

    public static HttpClientHandler TrustingHandler(string caPem)
    {
        var ca = X509Certificate2.CreateFromPem(caPem);
        return new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, cert, _, _) =>
            {
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return cert is not null && chain.Build(cert);
            },
        };
    }

    public async Task<JsonElement> ReviewAsync(string endpoint, string reviewJson)
    {
        using var response = await PostAsync(endpoint, reviewJson);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.Clone();
    }

    public Task<HttpResponseMessage> PostAsync(string endpoint, string body)
    {
        var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return Client.PostAsync(endpoint, content);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }

    /// <summary>Builds an AdmissionReview around an object given as YAML or JSON text.</summary>
    public static string Review(
        string objectYaml,
        string ns,
        string operation = "CREATE",
        string? oldObjectYaml = null,
        string? subResource = null,
        string username = "alice",
        bool dryRun = false,
        string apiVersion = "admission.k8s.io/v1",
        string? uid = null)
    {
        var obj = ToNode(objectYaml);
        var kind = obj?["kind"]?.GetValue<string>() ?? "Pod";
        var apiVersion0 = obj?["apiVersion"]?.GetValue<string>() ?? "v1";
        var group = apiVersion0.Contains('/', StringComparison.Ordinal) ? apiVersion0[..apiVersion0.IndexOf('/', StringComparison.Ordinal)] : string.Empty;
        var review = new JsonObject
        {
            ["apiVersion"] = apiVersion,
            ["kind"] = "AdmissionReview",
            ["request"] = new JsonObject
            {
                ["uid"] = uid ?? Guid.NewGuid().ToString(),
                ["kind"] = new JsonObject { ["group"] = group, ["version"] = "v1", ["kind"] = kind },
                ["resource"] = new JsonObject { ["group"] = group, ["version"] = "v1", ["resource"] = kind.ToLowerInvariant() + "s" },
                ["subResource"] = subResource,
                ["namespace"] = ns,
                ["name"] = obj?["metadata"]?["name"]?.GetValue<string>(),
                ["operation"] = operation,
                ["userInfo"] = new JsonObject { ["username"] = username, ["groups"] = new JsonArray("system:authenticated") },
                ["object"] = obj,
                ["oldObject"] = oldObjectYaml is null ? null : ToNode(oldObjectYaml),
                ["dryRun"] = dryRun,
            },
        };
        return review.ToJsonString();
    }

    public static JsonNode? ToNode(string yaml)
    {
        var resource = Skjold.TestSupport.Scans.Load(yaml).Single();
        return JsonNode.Parse(resource.Root.GetRawText());
    }
}

internal sealed class RecordingSink : IAdmissionDecisionSink
{
    private readonly List<AdmissionDecisionRecord> _records = [];

    public IReadOnlyList<AdmissionDecisionRecord> Records
    {
        get
        {
            lock (_records)
            {
                return [.. _records];
            }
        }
    }

    public void Record(AdmissionDecisionRecord record)
    {
        lock (_records)
        {
            _records.Add(record);
        }
    }
}
