using Skjold.Engine.Model;

namespace Skjold.Engine.Cluster;

/// <summary>Collects cluster-check violations: which check, on which resource, at which path.</summary>
internal sealed class ClusterSink
{
    public List<(string CheckId, Resource Resource, string Path, string Message)> Items { get; } = [];

    public void Report(string checkId, Resource resource, string path, string message) => Items.Add((checkId, resource, path, message));
}
