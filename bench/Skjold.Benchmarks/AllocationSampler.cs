using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Skjold.Benchmarks;

/// <summary>
/// Samples the runtime's allocation ticks (one per ~100 KB allocated) by type, to show what a
/// benchmark allocates. On when SKJOLD_BENCH_ALLOCATIONS is set.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private readonly ConcurrentDictionary<string, long> _bytes = new();

    public static AllocationSampler? StartIfAsked() =>
        Environment.GetEnvironmentVariable("SKJOLD_BENCH_ALLOCATIONS") is { Length: > 0 } ? new AllocationSampler() : null;

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)0x1); // GC keyword
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName is not null && e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) && e.Payload is { } payload)
        {
            var type = payload[e.PayloadNames!.IndexOf("TypeName")] as string ?? "?";
            var kind = Convert.ToInt32(payload[e.PayloadNames!.IndexOf("AllocationKind")], System.Globalization.CultureInfo.InvariantCulture) == 1 ? " (large)" : string.Empty;
            _bytes.AddOrUpdate(type + kind, 100_000, (_, v) => v + 100_000);
        }
    }

    public void Print(long events)
    {
        foreach (var (type, bytes) in _bytes.OrderByDescending(x => x.Value).Take(25))
        {
            Console.WriteLine($"  {bytes / events,8:N0} bytes/event  {type}");
        }
    }
}
