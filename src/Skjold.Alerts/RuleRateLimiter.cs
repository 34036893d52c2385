using Skjold.Detection.Falco;

namespace Skjold.Alerts;

/// <summary>Counts alerts per rule in fixed windows; what goes over the limit is summarised when its window ends.</summary>
internal sealed class RuleRateLimiter(RateLimit limit)
{
    private readonly Dictionary<string, WindowCount> _windows = new(StringComparer.Ordinal);
    private readonly List<Summary> _ended = [];

    public sealed record Summary(string Rule, long Window, int Suppressed, DateTimeOffset First, DateTimeOffset Last, FalcoPriority Highest);

    private sealed class WindowCount(long window)
    {
        public long Window { get; } = window;

        public int Count { get; set; }

        public int Suppressed { get; set; }

        public DateTimeOffset First { get; set; }

        public DateTimeOffset Last { get; set; }

        public FalcoPriority Highest { get; set; } = FalcoPriority.Debug;
    }

    private long WindowOf(DateTimeOffset now) => now.UtcTicks / Math.Max(1, limit.Per.Ticks);

    /// <summary>Whether one more alert of <paramref name="rule"/> may go out now.</summary>
    public bool Allow(string rule, FalcoPriority priority, DateTimeOffset now)
    {
        var w = WindowOf(now);
        if (!_windows.TryGetValue(rule, out var c) || c.Window != w)
        {
            if (c is { Suppressed: > 0 })
            {
                _ended.Add(new Summary(rule, c.Window, c.Suppressed, c.First, c.Last, c.Highest));
            }

            c = new WindowCount(w);
            _windows[rule] = c;
        }

        if (c.Count < limit.Alerts)
        {
            c.Count++;
            return true;
        }

        if (c.Suppressed == 0)
        {
            c.First = now;
        }

        c.Suppressed++;
        c.Last = now;
        if (priority < c.Highest)
        {
            c.Highest = priority;
        }

        return false;
    }

    /// <summary>The summaries of windows that have ended with alerts held back (each returned once).</summary>
    public IReadOnlyList<Summary> Due(DateTimeOffset now)
    {
        var w = WindowOf(now);
        var due = new List<Summary>(_ended);
        _ended.Clear();
        foreach (var (rule, c) in _windows.Where(kv => kv.Value.Window < w).ToList())
        {
            if (c.Suppressed > 0)
            {
                due.Add(new Summary(rule, c.Window, c.Suppressed, c.First, c.Last, c.Highest));
            }

            _windows.Remove(rule);
        }

        return due;
    }
}
