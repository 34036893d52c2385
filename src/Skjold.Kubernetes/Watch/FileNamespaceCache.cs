using Skjold.Engine.Admission;
using Skjold.Kubernetes.Loading;

namespace Skjold.Kubernetes.Watch;

/// <summary>
/// Namespaces read once from a file of Namespace objects (YAML or JSON, lists allowed), for
/// offline use and tests. Admission requests can add namespaces the file lacks, never change one it has.
/// </summary>
public sealed class FileNamespaceCache : INamespaceCache
{
    private readonly NamespaceStore _store = new();

    public FileNamespaceCache(string path)
    {
        var loaded = new ManifestLoader().LoadPaths([path]);
        if (loaded.HasErrors)
        {
            throw new InvalidOperationException($"namespaces file {path}: " + string.Join("; ", loaded.Diagnostics.Select(d => d.Message)));
        }

        foreach (var r in loaded.Resources.Where(r => r.Kind == "Namespace"))
        {
            _store.SetConfirmed(r.Ref.Name, NamespacePolicy.Labels(r.Root));
        }
    }

    public FileNamespaceCache()
    {
    }

    public bool IsReady => true;

    public int Count => _store.Count;

    /// <summary>
    /// The file is the only authority offline: its namespaces are confirmed; a namespace created
    /// through admission and not in the file keeps the labels of its (first) create request.
    /// </summary>
    public ValueTask<IReadOnlyDictionary<string, string>?> GetLabelsAsync(string name, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_store.TryGet(name, out var labels, out _) ? labels : null);

    public void ObserveCreate(string name, IReadOnlyDictionary<string, string> labels) => _store.SetProvisional(name, labels);
}
