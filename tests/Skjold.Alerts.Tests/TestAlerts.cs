using Skjold.Alerts.Outputs;
using Skjold.Detection.Falco;

namespace Skjold.Alerts.Tests;

internal static class TestAlerts
{
    public static readonly DateTimeOffset T0 = new(2026, 12, 2, 8, 0, 0, TimeSpan.Zero);

    public static Alert Make(int i, string rule = "Exec into pod", FalcoPriority priority = FalcoPriority.Warning, string? output = null) => new()
    {
        Id = Alert.IdFor(rule, "k8s_audit", [i]),
        Time = T0.AddMilliseconds(i),
        Rule = rule,
        Priority = priority,
        Output = output ?? $"exec into pod web-{i} by alice (leaf {i})",
        Tags = ["k8s", "mitre_execution"],
        Leaves = [i],
        Fields = new Dictionary<string, string> { ["user"] = "alice", ["namespace"] = "shop", ["verb"] = "create", ["resource"] = "pods", ["name"] = $"web-{i}" },
    };

    public static string TempFile(string name) => Path.Combine(Path.GetTempPath(), $"skjold-alerts-{Guid.NewGuid():N}", name);

    /// <summary>Polls <paramref name="condition"/> until it holds (or fails the test after <paramref name="seconds"/>).</summary>
    public static async Task Eventually(Func<Task<bool>> condition, string what, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(50);
        }
    }

    public static Task Eventually(Func<bool> condition, string what, int seconds = 60) => Eventually(() => Task.FromResult(condition()), what, seconds);
}

/// <summary>An in-memory output whose failures the test scripts.</summary>
internal sealed class ScriptedOutput(string name) : IAlertOutput
{
    private readonly Lock _gate = new();
    private readonly List<Alert> _received = [];
    private long _confirmed;

    public string Name { get; } = name;

    /// <summary>How many sends fail before the first success (then every send succeeds), or -1 to always fail.</summary>
    public int FailFirst { get; set; }

    public int Sends { get; private set; }

    public IReadOnlyList<Alert> Received
    {
        get
        {
            lock (_gate)
            {
                return [.. _received];
            }
        }
    }

    public ValueTask<long> SendAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken cancellationToken)
    {
        Sends++;
        if (FailFirst < 0 || FailFirst > 0)
        {
            if (FailFirst > 0)
            {
                FailFirst--;
            }

            throw new AlertDeliveryException($"{Name}: receiver down");
        }

        lock (_gate)
        {
            _received.AddRange(entries.Select(e => e.Alert));
        }

        _confirmed = entries[^1].Seq;
        return ValueTask.FromResult(_confirmed);
    }

    public ValueTask<long> ConfirmAsync(CancellationToken cancellationToken) => ValueTask.FromResult(_confirmed);

    public ValueTask ResetAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
