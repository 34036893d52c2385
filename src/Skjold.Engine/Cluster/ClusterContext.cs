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

    public RbacModel Rbac => _rbac ??= RbacModel.Build(Resources);

    /// <summary>Subjects that belong to the platform itself and are expected to hold broad rights.</summary>
    public static bool IsSystemSubject(RbacSubject s) => s.IsPlatform;

    public static bool IsSystemBinding(Resource binding) => binding.Ref.Name.StartsWith("system:", StringComparison.Ordinal);
}
