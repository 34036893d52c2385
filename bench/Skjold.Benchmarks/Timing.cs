using System.Diagnostics;

namespace Skjold.Benchmarks;

/// <summary>Timing helpers shared by the in-process harnesses.</summary>
internal static class Timing
{
    /// <summary>Runs <paramref name="action"/> once to warm up, then <paramref name="rounds"/> times; the median in milliseconds.</summary>
    public static double Median(int rounds, Action action)
    {
        action();
        var list = new List<double>();
        for (var i = 0; i < rounds; i++)
        {
            var sw = Stopwatch.StartNew();
            action();
            list.Add(sw.Elapsed.TotalMilliseconds);
        }

        list.Sort();
        return list[list.Count / 2];
    }
}
