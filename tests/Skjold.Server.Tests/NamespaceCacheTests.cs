using k8s;
using Microsoft.Extensions.Logging.Abstractions;
using Skjold.Kubernetes.Watch;
using Skjold.TestSupport;

namespace Skjold.Server.Tests;

/// <summary>
/// The namespace cache's list and watch, against <see cref="FakeKubernetesApi"/>: an in-process
/// HTTP server speaking the Kubernetes list/watch API, because no API server runs on these machines.
/// </summary>
public sealed class NamespaceCacheTests
{
    private static async Task Eventually(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for " + what);
            await Task.Delay(20);
        }
    }

    private static KubernetesNamespaceCache Cache(FakeKubernetesApi api) =>
        new(new k8s.Kubernetes(new KubernetesClientConfiguration { Host = api.Address.ToString() }), NullLogger<KubernetesNamespaceCache>.Instance, TimeProvider.System);

    [Fact]
    public async Task ListThenWatch_ReadyAfterFirstSync_FollowsEvents()
    {
        await using var api = new FakeKubernetesApi();
        for (var i = 0; i < 1200; i++)
        {
            api.Add($"ns-{i:D4}", new Dictionary<string, string> { ["team"] = "t" + i });
        }

        api.Add("payments", new Dictionary<string, string> { ["pod-security.kubernetes.io/enforce"] = "restricted" });
        api.HoldLists = new TaskCompletionSource();
        await api.StartAsync();
        using var cache = Cache(api);
        await cache.StartAsync(CancellationToken.None);

        await Eventually(() => api.ListRequests > 0, "the first list");
        Assert.False(cache.IsReady);
        api.HoldLists.SetResult();
        await Eventually(() => cache.IsReady, "readiness");

        // 1201 namespaces at 500 per page: three list requests for one sync.
        Assert.Equal(3, api.ListRequests);
        var labels = await cache.GetLabelsAsync("payments", CancellationToken.None);
        Assert.Equal("restricted", labels!["pod-security.kubernetes.io/enforce"]);
        Assert.NotNull(await cache.GetLabelsAsync("ns-1199", CancellationToken.None));

        await Eventually(() => api.WatchRequests > 0, "the watch");
        await api.EmitAsync("MODIFIED", "payments", new Dictionary<string, string> { ["pod-security.kubernetes.io/enforce"] = "baseline" });
        await api.EmitAsync("ADDED", "new-team", new Dictionary<string, string> { ["pod-security.kubernetes.io/warn"] = "restricted" });
        await api.EmitAsync("DELETED", "ns-0001", []);
        await Eventually(() => cache.GetLabelsAsync("payments", default).Result?["pod-security.kubernetes.io/enforce"] == "baseline", "the modification");
        await Eventually(() => cache.GetLabelsAsync("new-team", default).Result is not null, "the addition");
        await Eventually(() => cache.GetLabelsAsync("ns-0001", default).Result is null, "the deletion");
        await cache.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task ExpiredResourceVersion_ListsAgain()
    {
        await using var api = new FakeKubernetesApi { ExpiredBelow = int.MaxValue };
        api.Add("a", []);
        await api.StartAsync();
        using var cache = Cache(api);
        await cache.StartAsync(CancellationToken.None);
        await Eventually(() => cache.ListCount >= 2, "a relist after 410 Gone");
        Assert.True(cache.IsReady);
        await cache.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task UnknownNamespace_FetchedDirectly()
    {
        await using var api = new FakeKubernetesApi();
        await api.StartAsync();
        using var cache = Cache(api);
        await cache.StartAsync(CancellationToken.None);
        await Eventually(() => cache.IsReady, "readiness");
        api.Add("late", new Dictionary<string, string> { ["x"] = "y" });
        Assert.Equal("y", (await cache.GetLabelsAsync("late", CancellationToken.None))!["x"]);
        Assert.Null(await cache.GetLabelsAsync("never", CancellationToken.None));
        await cache.StopAsync(CancellationToken.None);
    }


    [Fact]
    public async Task ApiDown_NotReady_RetriesWithDoublingBackoff_OnTheFakeClock()
    {
        await using var api = new FakeKubernetesApi { FailLists = 3 };
        api.Add("a", []);
        await api.StartAsync();
        var time = new SignallingClock(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
        using var cache = new KubernetesNamespaceCache(
            new k8s.Kubernetes(new KubernetesClientConfiguration { Host = api.Address.ToString() }), NullLogger<KubernetesNamespaceCache>.Instance, time);
        await cache.StartAsync(CancellationToken.None);

        // Attempt 1 fails at once; the retries come 1 s, 2 s and 4 s later (plus up to a quarter of jitter), not sooner.
        var expected = 1;
        foreach (var backoff in new[] { 1.0, 2.0, 4.0 })
        {
            Assert.True(await time.TimersCreated.WaitAsync(TimeSpan.FromSeconds(20)), $"the back-off before retry {expected}");
            Assert.Equal(expected, api.ListRequests);
            Assert.False(cache.IsReady);
            time.Advance(TimeSpan.FromSeconds(backoff * 0.99));
            Assert.Equal(0, time.TimersCreated.CurrentCount); // still waiting: no retry before the back-off
            Assert.Equal(expected, api.ListRequests);
            time.Advance(TimeSpan.FromSeconds(backoff * 0.27));
            expected++;
            await Eventually(() => api.ListRequests == expected, $"retry {expected - 1} after {backoff} s");
        }

        // The fourth list succeeds: ready without any further waiting.
        await Eventually(() => cache.IsReady, "readiness after the API came back");
        await cache.StopAsync(CancellationToken.None);
    }
}
