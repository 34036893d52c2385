using Skjold.Engine.Model;

namespace Skjold.Kubernetes.Live;

/// <summary>
/// Where cluster objects are read from: a snapshot file, the live API, or (in the server) watch
/// caches. Every host that judges a cluster reads it through this.
/// </summary>
public interface IClusterSource
{
    /// <summary>What is read, for messages (the API server's address, or the snapshot's path).</summary>
    string Description { get; }

    /// <summary>Reads the objects; progress reports (kind, objects so far) for long reads.</summary>
    Task<ClusterRead> ReadAsync(IProgress<(string Kind, int Count)>? progress, CancellationToken cancellationToken);
}

/// <summary>A cluster's objects, the input problems, and what the read could not cover.</summary>
public sealed record ClusterRead(IReadOnlyList<Resource> Resources, IReadOnlyList<Diagnostic> Diagnostics, SnapshotSummary Summary)
{
    /// <summary>Only namespaced objects of <paramref name="ns"/> (and every cluster-scoped one): cluster-scoped checks still see the whole cluster's roles and nodes.</summary>
    public ClusterRead InNamespace(string? ns) =>
        ns is null ? this : this with { Resources = [.. Resources.Where(r => r.Ref.Namespace is not { } n || n == ns)] };
}
