using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Skjold.Detection.Falco;

namespace Skjold.Alerts.Tests;

public sealed class DispatcherTests
{
    private static readonly AlertDispatcherOptions Fast = new()
    {
        InitialBackoff = TimeSpan.FromMilliseconds(5),
        MaxBackoff = TimeSpan.FromMilliseconds(40),
        PollInterval = TimeSpan.FromMilliseconds(50),
        ConfirmInterval = TimeSpan.FromMilliseconds(10),
        DrainTimeout = TimeSpan.FromSeconds(5),
    };

    [Theory]
    [MemberData(nameof(OutboxTests.Stores), MemberType = typeof(OutboxTests))]
    public async Task FailingOutput_IsRetriedInOrder_AndDoesNotHoldUpTheOthers(string kind)
    {
        await using var box = OutboxTests.Open(kind);
        var flaky = new ScriptedOutput("flaky") { FailFirst = 3 };
        var down = new ScriptedOutput("down") { FailFirst = -1 };
        var fine = new ScriptedOutput("fine");
        await using var d = new AlertDispatcher(box, [new(flaky), new(down), new(fine)], NullLogger.Instance, options: Fast);
        await d.StartAsync();
        var alerts = Enumerable.Range(0, 300).Select(i => TestAlerts.Make(i)).ToList();
        foreach (var chunk in alerts.Chunk(50))
        {
            await d.EnqueueAsync(chunk);
        }

        await TestAlerts.Eventually(() => d.Stats["fine"].Delivered == 300 && d.Stats["flaky"].Delivered == 300, "delivery to the working outputs");
        Assert.Equal(alerts.Select(a => a.Id), fine.Received.Select(a => a.Id));
        Assert.Equal(alerts.Select(a => a.Id), flaky.Received.Select(a => a.Id)); // in order, each once
        Assert.Empty(down.Received);
        Assert.True(d.Stats["flaky"].Failures >= 3);
        Assert.Equal(0, d.Stats["fine"].Failures);
        await TestAlerts.Eventually(() => d.Stats["down"].Failures >= 3, "retries of the down output");
        Assert.Equal(300, await box.DepthAsync("down")); // nothing is dropped for the output that is down
        Assert.True((await box.RowsAsync("down"))[0].Attempts >= 1);
        Assert.Equal("down: receiver down", d.Stats["down"].LastError);
    }

    [Theory]
    [MemberData(nameof(OutboxTests.Stores), MemberType = typeof(OutboxTests))]
    public async Task AlertsUndeliveredAtAStop_AreDeliveredAfterTheNextStart(string kind)
    {
        var box = OutboxTests.Open(kind);
        var alerts = Enumerable.Range(0, 50).Select(i => TestAlerts.Make(i)).ToList();
        var down = new ScriptedOutput("siem") { FailFirst = -1 };
        await using (var first = new AlertDispatcher(box, [new(down)], NullLogger.Instance, options: Fast with { DrainTimeout = TimeSpan.FromMilliseconds(200) }))
        {
            await first.StartAsync();
            await first.EnqueueAsync(alerts);
            await TestAlerts.Eventually(() => first.Stats["siem"].Failures > 0, "a failed attempt");
        }

        var up = new ScriptedOutput("siem");
        await using (var second = new AlertDispatcher(box, [new(up)], NullLogger.Instance, options: Fast))
        {
            await second.StartAsync();
            await TestAlerts.Eventually(() => up.Received.Count == 50, "delivery after restart");
            await second.EnqueueAsync(alerts.Take(10).ToList()); // re-detected after the restart: the same ids, not queued again
            await Task.Delay(200);
        }

        Assert.Equal(alerts.Select(a => a.Id), up.Received.Select(a => a.Id));
        Assert.Equal(0, await box.DepthAsync("siem"));
        await box.DisposeAsync();
    }

    [Fact]
    public async Task QueueDepth_CountsAlertsQueuedWhileAnOutputBacksOff()
    {
        await using var box = OutboxTests.Open("sqlite");
        var down = new ScriptedOutput("siem") { FailFirst = -1 };
        var slow = Fast with { InitialBackoff = TimeSpan.FromMinutes(10), MaxBackoff = TimeSpan.FromMinutes(10) };
        await using var d = new AlertDispatcher(box, [new(down)], NullLogger.Instance, options: slow with { DrainTimeout = TimeSpan.FromMilliseconds(100) });
        await d.StartAsync();
        await d.EnqueueAsync([TestAlerts.Make(0)]);
        await TestAlerts.Eventually(() => d.Stats["siem"].Failures == 1, "the first failed attempt");
        Assert.Equal(1, d.Stats["siem"].Depth);

        await d.EnqueueAsync([TestAlerts.Make(1), TestAlerts.Make(2)]); // no attempt until the back-off ends
        Assert.Equal(3, d.Stats["siem"].Depth);
        await d.EnqueueAsync([TestAlerts.Make(2)]); // already queued: not counted twice
        Assert.Equal(3, d.Stats["siem"].Depth);
        Assert.Equal(3, await box.DepthAsync("siem"));

        await box.EnqueueAsync([("siem", TestAlerts.Make(3))]); // queued by another replica sharing the outbox
        Assert.Equal(3, d.Stats["siem"].Depth);
        await d.RefreshDepthsAsync(); // what /metrics does on a scrape
        Assert.Equal(4, d.Stats["siem"].Depth);
        Assert.Equal(1, d.Stats["siem"].Failures);
    }

    [Fact]
    public async Task MinPriority_FiltersWhatAnOutputIsSent()
    {
        await using var box = OutboxTests.Open("sqlite");
        var pager = new ScriptedOutput("pager");
        var siem = new ScriptedOutput("siem");
        await using var d = new AlertDispatcher(box, [new(pager, FalcoPriority.Error), new(siem)], NullLogger.Instance, options: Fast);
        await d.StartAsync();
        await d.EnqueueAsync([TestAlerts.Make(1, priority: FalcoPriority.Notice), TestAlerts.Make(2, priority: FalcoPriority.Error), TestAlerts.Make(3, priority: FalcoPriority.Critical), TestAlerts.Make(4, priority: FalcoPriority.Warning)]);
        await TestAlerts.Eventually(() => siem.Received.Count == 4 && pager.Received.Count == 2, "delivery");
        Assert.Equal([2L, 3L], pager.Received.Select(a => a.Leaves[0]));
    }

    [Fact]
    public async Task RateLimit_HoldsBackANoisyRule_AndSendsOneSummaryWhenTheWindowEnds()
    {
        await using var box = OutboxTests.Open("sqlite");
        var clock = new FakeTimeProvider(TestAlerts.T0);
        var siem = new ScriptedOutput("siem");
        await using var d = new AlertDispatcher(box, [new(siem, RateLimit: new RateLimit(5, TimeSpan.FromMinutes(1)))], NullLogger.Instance, clock, Fast);
        await d.StartAsync();
        var noisy = Enumerable.Range(0, 40).Select(i => TestAlerts.Make(i, rule: "Noisy")).ToList();
        var quiet = Enumerable.Range(100, 3).Select(i => TestAlerts.Make(i, rule: "Quiet", priority: FalcoPriority.Critical)).ToList();
        await d.EnqueueAsync([.. noisy, .. quiet]);
        await TestAlerts.Eventually(() => siem.Received.Count == 8, "the alerts within the limit");
        await Task.Delay(100);
        Assert.Equal(5, siem.Received.Count(a => a.Rule == "Noisy"));
        Assert.Equal(3, siem.Received.Count(a => a.Rule == "Quiet")); // another rule is not held back by the noisy one
        Assert.Equal(35, d.Stats["siem"].Suppressed);

        clock.Advance(TimeSpan.FromMinutes(1)); // the window ends
        await TestAlerts.Eventually(() => { clock.Advance(TimeSpan.FromMilliseconds(50)); return siem.Received.Any(a => a.Rule == AlertDispatcher.RateLimitedRule); }, "the summary");
        var summary = siem.Received.Single(a => a.Rule == AlertDispatcher.RateLimitedRule);
        Assert.Equal("35", summary.Fields["suppressed"]);
        Assert.Equal("Noisy", summary.Fields["rule"]);
        Assert.Contains("35 alerts of rule 'Noisy'", summary.Output, StringComparison.Ordinal);
        var rows = await box.RowsAsync("siem");
        Assert.Equal(35, rows.Count(r => r.State == 2)); // held back, but recorded

        await d.EnqueueAsync([TestAlerts.Make(500, rule: "Noisy")]); // a new window: allowed again
        await TestAlerts.Eventually(() => siem.Received.Any(a => a.Leaves is [500]), "the next window's alert");
    }

    [Fact]
    public void RateLimiter_Boundary_TheLimitItselfIsAllowed()
    {
        var limiter = new RuleRateLimiter(new RateLimit(3, TimeSpan.FromSeconds(10)));
        var t = TestAlerts.T0;
        Assert.True(limiter.Allow("r", FalcoPriority.Warning, t));
        Assert.True(limiter.Allow("r", FalcoPriority.Warning, t));
        Assert.True(limiter.Allow("r", FalcoPriority.Warning, t.AddSeconds(9.9)));
        Assert.False(limiter.Allow("r", FalcoPriority.Critical, t.AddSeconds(9.99)));
        Assert.Empty(limiter.Due(t.AddSeconds(9.999)));
        var due = Assert.Single(limiter.Due(t.AddSeconds(10)));
        Assert.Equal(1, due.Suppressed);
        Assert.Equal(FalcoPriority.Critical, due.Highest);
        Assert.Empty(limiter.Due(t.AddSeconds(11))); // once
    }

    [Fact]
    public void Dispatcher_RefusesTwoOutputsWithOneName()
    {
        var box = OutboxTests.Open("sqlite");
        var ex = Assert.Throws<ArgumentException>(() => new AlertDispatcher(box, [new(new ScriptedOutput("a")), new(new ScriptedOutput("a"))], NullLogger.Instance));
        Assert.Contains("'a'", ex.Message, StringComparison.Ordinal);
    }
}
