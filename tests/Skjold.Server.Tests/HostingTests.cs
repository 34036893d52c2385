using System.Net;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;
using Skjold.Kubernetes.Watch;
using Skjold.Server.Tls;

namespace Skjold.Server.Tests;

public sealed class HostingTests
{
    private const string Pod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: p, namespace: slow}
        spec:
          containers: [{name: c, image: "a:1", securityContext: {privileged: true}}]
        """;

    /// <summary>A namespace source that takes its time, to exercise deadlines and draining.</summary>
    private sealed class SlowCache(TimeSpan delay) : INamespaceCache
    {
        public bool IsReady => true;

        /// <summary>Completed when a request has reached the cache, that is, is being handled.</summary>
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask<IReadOnlyDictionary<string, string>?> GetLabelsAsync(string name, CancellationToken cancellationToken)
        {
            Entered.TrySetResult();
            await Task.Delay(delay, cancellationToken);
            return new Dictionary<string, string> { ["pod-security.kubernetes.io/enforce"] = "baseline" };
        }

        public void ObserveCreate(string name, IReadOnlyDictionary<string, string> labels)
        {
        }
    }

    [Fact]
    public async Task Deadline_RequestThatCannotBeDecidedInTime_AllowedWithWarning()
    {
        await using var server = await WebhookServer.StartAsync(cache: new SlowCache(TimeSpan.FromSeconds(30)), requestTimeout: TimeSpan.FromMilliseconds(300));
        var started = DateTime.UtcNow;
        var review = await server.ReviewAsync("/validate", WebhookServer.Review(Pod, "slow"));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
        var response = review.GetProperty("response");
        Assert.True(response.GetProperty("allowed").GetBoolean());
        Assert.Contains("no decision", response.GetProperty("warnings")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal("timeout", response.GetProperty("auditAnnotations").GetProperty("decision").GetString());
    }

    [Fact]
    public async Task GracefulShutdown_DrainsInFlightRequests()
    {
        var cache = new SlowCache(TimeSpan.FromSeconds(1));
        var server = await WebhookServer.StartAsync(cache: cache);
        var inFlight = server.ReviewAsync("/validate", WebhookServer.Review(Pod, "slow"));
        await cache.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30)); // the request is being handled when shutdown begins
        var stopping = server.App.StopAsync();
        var review = await inFlight;
        await stopping;
        Assert.False(review.GetProperty("response").GetProperty("allowed").GetBoolean());
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Readyz_ReflectsNamespaceCacheSync()
    {
        await using var api = new FakeKubernetesApi { HoldLists = new TaskCompletionSource() };
        await api.StartAsync();
        var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = api.Address.ToString() });
        var cache = new KubernetesNamespaceCache(client, NullLogger<KubernetesNamespaceCache>.Instance, TimeProvider.System);
        await using var server = await WebhookServer.StartAsync(cache: cache);
        using (var notReady = await server.Client.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        }

        api.HoldLists.SetResult();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        HttpStatusCode status;
        do
        {
            await Task.Delay(50);
            using var r = await server.Client.GetAsync("/readyz");
            status = r.StatusCode;
        }
        while (status != HttpStatusCode.OK && DateTime.UtcNow < deadline);
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task CertificateFiles_ReloadedWhenRotatedOnDisk()
    {
        var dir = Directory.CreateTempSubdirectory("skjold-tls-").FullName;
        try
        {
            var first = SelfSignedCertificates.Create("skjold", "skjold-system", TimeProvider.System);
            var certPath = Path.Combine(dir, "tls.crt");
            var keyPath = Path.Combine(dir, "tls.key");
            await File.WriteAllTextAsync(certPath, first.ServerPem);
            await File.WriteAllTextAsync(keyPath, first.ServerKeyPem);
            ServerCertificate? reloading = null;
            await using var server = await WebhookServer.StartAsync(certificate: () =>
                reloading = ServerCertificate.FromFiles(certPath, keyPath, NullLogger.Instance, TimeSpan.FromMilliseconds(200)));

            Assert.Equal(first.Server.Thumbprint, await PresentedThumbprint(server));

            // cert-manager style rotation: new key pair, files replaced.
            var second = SelfSignedCertificates.Create("skjold", "skjold-system", TimeProvider.System);
            await File.WriteAllTextAsync(keyPath + ".tmp", second.ServerKeyPem);
            await File.WriteAllTextAsync(certPath + ".tmp", second.ServerPem);
            File.Move(keyPath + ".tmp", keyPath, overwrite: true);
            File.Move(certPath + ".tmp", certPath, overwrite: true);
            File.SetLastWriteTimeUtc(certPath, DateTime.UtcNow.AddSeconds(5));

            var deadline = DateTime.UtcNow.AddSeconds(20);
            string thumbprint;
            do
            {
                await Task.Delay(100);
                thumbprint = await PresentedThumbprint(server);
            }
            while (thumbprint != second.Server.Thumbprint && DateTime.UtcNow < deadline);
            Assert.Equal(second.Server.Thumbprint, thumbprint);
            Assert.True(reloading!.Reloads >= 1);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static async Task<string> PresentedThumbprint(WebhookServer server)
    {
        string? seen = null;
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, cert, _, _) =>
            {
                seen = cert?.Thumbprint;
                return true;
            },
        };
        using var client = new HttpClient(handler) { BaseAddress = server.Client.BaseAddress };
        using var r = await client.GetAsync("/healthz");
        return seen ?? string.Empty;
    }
}
