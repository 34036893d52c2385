
namespace Skjold.Engine.Cluster;

/// <summary>A check over the whole set of resources (RBAC, secrets hygiene, upgrades, residency); findings attach to resources.</summary>
internal abstract class ClusterCheck
{
    /// <summary>The check ids this class reports under.</summary>
    public abstract IReadOnlyList<string> Ids { get; }

    public abstract void Evaluate(ClusterContext context, ClusterSink sink);
}
