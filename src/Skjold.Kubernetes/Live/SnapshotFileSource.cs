using Skjold.Kubernetes.Loading;

namespace Skjold.Kubernetes.Live;

/// <summary>A snapshot written by <c>skjold snapshot</c> (or any kubectl dump) as a cluster source; its objects keep their file and line.</summary>
public sealed class SnapshotFileSource(string path) : IClusterSource
{
    public string Description => path;

    public Task<ClusterRead> ReadAsync(IProgress<(string Kind, int Count)>? progress, CancellationToken cancellationToken)
    {
        var loaded = new ManifestLoader().LoadPaths([path]);
        var counts = loaded.Resources.GroupBy(r => r.Kind).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var version = loaded.Resources.FirstOrDefault(r => r.Kind == "ClusterVersion") is { } v && v.Root.TryGetProperty("gitVersion", out var g) ? g.GetString() : null;
        return Task.FromResult(new ClusterRead(loaded.Resources, loaded.Diagnostics, new SnapshotSummary(version, counts, [])));
    }
}
