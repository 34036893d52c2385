using Skjold.Engine.Model;
using Skjold.Engine.Policy;
using Skjold.Engine.Rbac;
using Skjold.Engine.Workloads;

namespace Skjold.Engine.Cluster;

/// <summary>What cluster checks see: every resource, the index, the RBAC model (built on first use), the policy and the time.</summary>
internal sealed class ClusterContext(IReadOnlyList<Resource> resources, ResourceIndex index, ScanPolicy policy, DateTimeOffset now)
{
    private RbacModel? _rbac;

    public IReadOnlyList<Resource> Resources { get; } = resources;

    public ResourceIndex Index { get; } = index;

    public ScanPolicy Policy { get; } = policy;

    public DateTimeOffset Now { get; } = now;

    /// <summary>Where namespaced objects without a namespace were placed (the loader's rule; kept for objects built elsewhere).</summary>
    public string DefaultNamespace => Policy.DefaultNamespace;

    /// <summary>Warnings about the input the checks could not take into account (the scan reports them).</summary>
    public List<Diagnostic> Diagnostics { get; } = [];

    public RbacModel Rbac => _rbac ??= RbacModel.Build(Resources, new RbacModelOptions { KubeMinor = Policy.KubeMinor, Now = Now, DefaultNamespace = Policy.DefaultNamespace });
}
