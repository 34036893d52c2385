using k8s;
using Microsoft.Extensions.Logging.Abstractions;
using Skjold.Kubernetes.Watch;

namespace Skjold.Server.Tests;

/// <summary>
/// A Namespace review for a namespace that already exists, with weaker Pod Security labels, must
/// not change the labels the webhook judges pods by: validating admission runs before storage
/// refuses the duplicate, and the refused request never produces a watch event to undo it.
/// </summary>
public sealed class NamespaceCachePoisoningTests
{
    private const string PrivilegedPod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: p, namespace: NS}
        spec:
          containers:
          - {name: app, image: registry.example.com/app:1.0, securityContext: {privileged: true}}
        """;

    private static string Namespace(string name, string enforce) =>
        $"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}, labels: {{pod-security.kubernetes.io/enforce: {enforce}}}}}\n";

    private static bool Allowed(System.Text.Json.JsonElement review) => review.GetProperty("response").GetProperty("allowed").GetBoolean();

    [Fact]
    public async Task FileCache_ReviewOfAnExistingNamespace_DoesNotChangeItsLabels()
    {
        await using var server = await WebhookServer.StartAsync();
        foreach (var operation in new[] { "CREATE", "UPDATE" })
        {
            var ns = Namespace("baseline-ns", "privileged");
            await server.ReviewAsync("/validate", WebhookServer.Review(ns, "", operation, oldObjectYaml: operation == "UPDATE" ? Namespace("baseline-ns", "baseline") : null));
            var pod = await server.ReviewAsync("/validate", WebhookServer.Review(PrivilegedPod.Replace("NS", "baseline-ns", StringComparison.Ordinal), "baseline-ns"));
            Assert.False(Allowed(pod), $"a {operation} review of baseline-ns weakened its policy");
        }
    }

    [Fact]
    public async Task KubernetesCache_OnlyTheApiDecides()
    {
        await using var api = new FakeKubernetesApi();
        api.Add("payments", new Dictionary<string, string> { ["pod-security.kubernetes.io/enforce"] = "restricted" });
        await api.StartAsync();
        using var cache = new KubernetesNamespaceCache(new k8s.Kubernetes(new KubernetesClientConfiguration { Host = api.Address.ToString() }),
            NullLogger<KubernetesNamespaceCache>.Instance, TimeProvider.System);
        await cache.StartAsync(CancellationToken.None);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!cache.IsReady)
        {
            Assert.True(DateTime.UtcNow < deadline);
            await Task.Delay(20);
        }

        await using var server = await WebhookServer.StartAsync(cache: cache);
        string Pod(string ns) => WebhookServer.Review(PrivilegedPod.Replace("NS", ns, StringComparison.Ordinal), ns);

        // A create (refused by storage as a duplicate) or an update of payments changes nothing.
        await server.ReviewAsync("/validate", WebhookServer.Review(Namespace("payments", "privileged"), ""));
        await server.ReviewAsync("/validate", WebhookServer.Review(Namespace("payments", "privileged"), "", "UPDATE", oldObjectYaml: Namespace("payments", "restricted")));
        Assert.False(Allowed(await server.ReviewAsync("/validate", Pod("payments"))));
        Assert.Equal("restricted", (await cache.GetLabelsAsync("payments", default))!["pod-security.kubernetes.io/enforce"]);

        // A create of a namespace the API does not have is provisional: the API is asked before it
        // is believed, and a namespace that does not exist gets the defaults, not the request's labels.
        await server.ReviewAsync("/validate", WebhookServer.Review(Namespace("ghost", "privileged"), ""));
        Assert.Null(await cache.GetLabelsAsync("ghost", default));
        Assert.False(Allowed(await server.ReviewAsync("/validate", Pod("ghost")))); // defaults: restricted

        // Once the API has it, its labels count.
        api.Add("fresh", new Dictionary<string, string> { ["pod-security.kubernetes.io/enforce"] = "privileged" });
        await server.ReviewAsync("/validate", WebhookServer.Review(Namespace("fresh", "restricted"), ""));
        Assert.Equal("privileged", (await cache.GetLabelsAsync("fresh", default))!["pod-security.kubernetes.io/enforce"]);
        await cache.StopAsync(CancellationToken.None);
    }
}
