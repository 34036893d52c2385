using System.Collections.Concurrent;

namespace Skjold.SupplyChain.Policy;

/// <summary>A bounded map with per-entry expiry: at most <paramref name="capacity"/> entries, the oldest dropped first.</summary>
public sealed class VerificationCache<T>(int capacity, TimeProvider time)
    where T : class
{
    private readonly ConcurrentDictionary<string, (T Value, DateTimeOffset Expires)> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();

    public int Count => _entries.Count;

    public bool TryGet(string key, out T value)
    {
        if (_entries.TryGetValue(key, out var e) && e.Expires > time.GetUtcNow())
        {
            value = e.Value;
            return true;
        }

        value = null!;
        return false;
    }

    public void Set(string key, T value, TimeSpan ttl)
    {
        if (ttl <= TimeSpan.Zero)
        {
            return;
        }

        if (_entries.TryAdd(key, (value, time.GetUtcNow() + ttl)))
        {
            _order.Enqueue(key);
        }
        else
        {
            _entries[key] = (value, time.GetUtcNow() + ttl);
        }

        while (_entries.Count > capacity && _order.TryDequeue(out var oldest))
        {
            _entries.TryRemove(oldest, out _);
        }
    }
}
