using System.Collections.Concurrent;

namespace Skjold.Kubernetes.Watch;

/// <summary>
/// The thread-safe map behind both caches. An entry is confirmed (from the API's list and watch, or
/// the namespaces file) or provisional (from an admission request for a namespace not yet known).
/// Admission requests can never change a confirmed entry: validating admission runs before storage
/// refuses a duplicate, and a rejected request never produces a watch event that would undo it.
/// </summary>
internal sealed class NamespaceStore
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public int Count => _entries.Count;

    /// <summary>A confirmed entry's labels.</summary>
    public bool TryGetConfirmed(string name, out IReadOnlyDictionary<string, string> labels)
    {
        if (_entries.TryGetValue(name, out var e) && e.Confirmed)
        {
            labels = e.Labels;
            return true;
        }

        labels = null!;
        return false;
    }

    /// <summary>Any entry's labels, and whether they are confirmed.</summary>
    public bool TryGet(string name, out IReadOnlyDictionary<string, string> labels, out bool confirmed)
    {
        if (_entries.TryGetValue(name, out var e))
        {
            (labels, confirmed) = (e.Labels, e.Confirmed);
            return true;
        }

        (labels, confirmed) = (null!, false);
        return false;
    }

    /// <summary>Labels from an authoritative source (the API or the file).</summary>
    public void SetConfirmed(string name, IReadOnlyDictionary<string, string> labels) => _entries[name] = new Entry(labels, true);

    /// <summary>Labels from an admission request: kept only for a namespace not known yet, and never over a confirmed entry.</summary>
    public void SetProvisional(string name, IReadOnlyDictionary<string, string> labels) =>
        _entries.AddOrUpdate(name, _ => new Entry(labels, false), (_, existing) => existing.Confirmed ? existing : new Entry(labels, false));

    public void Remove(string name) => _entries.TryRemove(name, out _);

    /// <summary>Replaces the whole content (after a full list), dropping namespaces that are gone.</summary>
    public void ReplaceAll(IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> all)
    {
        foreach (var (name, labels) in all)
        {
            _entries[name] = new Entry(labels, true);
        }

        foreach (var name in _entries.Keys)
        {
            if (!all.ContainsKey(name))
            {
                _entries.TryRemove(name, out _);
            }
        }
    }

    private sealed record Entry(IReadOnlyDictionary<string, string> Labels, bool Confirmed);
}
