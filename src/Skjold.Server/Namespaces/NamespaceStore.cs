using System.Collections.Concurrent;

namespace Skjold.Server.Namespaces;

/// <summary>The thread-safe map behind both caches.</summary>
internal sealed class NamespaceStore
{
    private readonly ConcurrentDictionary<string, IReadOnlyDictionary<string, string>> _labels = new(StringComparer.Ordinal);

    public int Count => _labels.Count;

    public bool TryGet(string name, out IReadOnlyDictionary<string, string> labels) => _labels.TryGetValue(name, out labels!);

    public void Set(string name, IReadOnlyDictionary<string, string> labels) => _labels[name] = labels;

    public void Remove(string name) => _labels.TryRemove(name, out _);

    /// <summary>Replaces the whole content (after a full list), dropping namespaces that are gone.</summary>
    public void ReplaceAll(IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> all)
    {
        foreach (var (name, labels) in all)
        {
            _labels[name] = labels;
        }

        foreach (var name in _labels.Keys)
        {
            if (!all.ContainsKey(name))
            {
                _labels.TryRemove(name, out _);
            }
        }
    }
}
