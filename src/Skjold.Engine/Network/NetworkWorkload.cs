using Skjold.Engine.Model;

namespace Skjold.Engine.Network;

/// <summary>A container port with a name, for resolving named ports in policies.</summary>
public sealed record NamedPort(string Name, int Port, string Protocol);

/// <summary>
/// A set of pods that share labels and ports: a workload (Deployment, StatefulSet, DaemonSet,
/// ReplicaSet, Job, CronJob, ReplicationController) or a pod without one. Policies select pods by
/// labels, so one representative stands for all replicas.
/// </summary>
public sealed record NetworkWorkload(string Namespace, string Name, string Kind, IReadOnlyDictionary<string, string> Labels,
    IReadOnlyList<NamedPort> Ports, Resource Resource, bool HostNetwork)
{
    public string Id => $"{Namespace}/{Name}[{Kind}]";

    /// <summary>The pods' service account (Calico and Cilium select by it).</summary>
    public string ServiceAccount { get; init; } = "default";

    public override string ToString() => Id;
}

/// <summary>Something in the input the model does not capture, said instead of answering as if it were absent.</summary>
public sealed record NetworkNote(Resource Resource, string Path, string Message);

/// <summary>What decides a connection: the policies on each side and which of their rules allow or deny it.</summary>
public sealed record ReachAnswer(
    ConnectionSet Allowed,
    ConnectionSet EgressAllowed,
    ConnectionSet IngressAllowed,
    IReadOnlyList<string> EgressPolicies,
    IReadOnlyList<string> IngressPolicies,
    IReadOnlyList<string> EgressAllowedBy,
    IReadOnlyList<string> IngressAllowedBy)
{
    public IReadOnlyList<string> EgressDeniedBy { get; init; } = [];

    public IReadOnlyList<string> IngressDeniedBy { get; init; } = [];
}
