using Skjold.Engine.Model;

namespace Skjold.Engine.Network;

/// <summary>Which API a policy comes from; each has its own selection and evaluation rules.</summary>
public enum PolicyFlavor
{
    /// <summary>networking.k8s.io/v1 NetworkPolicy.</summary>
    Kubernetes,

    /// <summary>projectcalico.org/v3 (or crd.projectcalico.org/v1) NetworkPolicy.</summary>
    Calico,

    /// <summary>projectcalico.org/v3 (or crd.projectcalico.org/v1) GlobalNetworkPolicy.</summary>
    CalicoGlobal,

    /// <summary>cilium.io/v2 CiliumNetworkPolicy.</summary>
    Cilium,

    /// <summary>cilium.io/v2 CiliumClusterwideNetworkPolicy.</summary>
    CiliumClusterwide,
}

/// <summary>What a matching rule does with a connection (Kubernetes and Cilium allow rules are Allow).</summary>
public enum PolicyAction
{
    Allow,
    Deny,

    /// <summary>Calico: hand the connection to the next tier that applies to the endpoint.</summary>
    Pass,

    /// <summary>Calico: record and go on with the next rule.</summary>
    Log,
}

/// <summary>Three-valued match: a condition Skjold cannot decide from the input (pod addresses, L7, DNS names).</summary>
internal enum Match
{
    No,
    Yes,
    Unknown,
}

/// <summary>Ports of a rule: a fixed set plus named ports that resolve on the destination pod.</summary>
internal sealed class PortSet(ConnectionSet fixedSet, IReadOnlyList<(string Name, string? Protocol)> named)
{
    public static PortSet Every { get; } = new(ConnectionSet.All, []);

    public static PortSet Nothing { get; } = new(ConnectionSet.None, []);

    public bool IsFixed => named.Count == 0;

    public ConnectionSet Fixed => fixedSet;

    public IReadOnlyList<(string Name, string? Protocol)> Named => named;

    public ConnectionSet Resolve(NetworkWorkload? destination)
    {
        if (named.Count == 0)
        {
            return fixedSet;
        }

        var result = fixedSet;
        foreach (var (name, protocol) in named)
        {
            // A named port resolves on the destination pod; an address outside the cluster has none.
            foreach (var np in destination?.Ports ?? [])
            {
                if (np.Name == name && (protocol is null || string.Equals(np.Protocol, protocol, StringComparison.OrdinalIgnoreCase)))
                {
                    result = result.Union(ConnectionSet.Of(np.Protocol, np.Port, np.Port));
                }
            }
        }

        return result;
    }

    /// <summary>True when the rule may allow DNS (port 53 on UDP or TCP) to some destination.</summary>
    public bool MayReachDns => fixedSet.Contains("UDP", 53) || fixedSet.Contains("TCP", 53) || named.Any(n => n.Name is "dns" or "dns-tcp" or "domain");
}

/// <summary>
/// One rule of a policy, for one direction: whom it matches (the peer, and for Calico also the
/// local endpoint), which connections, and what it does with them.
/// </summary>
internal sealed class PolicyRule
{
    public required int Index { get; init; }

    /// <summary>Where the rule is in its object, e.g. spec.ingress[0].</summary>
    public required string Path { get; init; }

    public PolicyAction Action { get; init; } = PolicyAction.Allow;

    /// <summary>Whether the peer (a workload, or the external address when the workload is null) matches; the local endpoint is the selected workload.</summary>
    public required Func<NetworkModel, NetworkWorkload, NetworkWorkload?, uint, Match> Matches { get; init; }

    /// <summary>Ports and protocols (a Calico rule's notProtocol and notPorts already taken out).</summary>
    public required Func<NetworkWorkload?, ConnectionSet> Connections { get; init; }

    /// <summary>Ports without the destination's named ports, for the DNS check.</summary>
    public required PortSet Ports { get; init; }

    /// <summary>Address ranges the rule names (CIDRs), where the external address space is cut.</summary>
    public IReadOnlyList<(uint Lo, uint Hi)> Boundaries { get; init; } = [];

    /// <summary>Where the rule allows every peer or every internet address: the path and what to say.</summary>
    public IReadOnlyList<(string Path, string Message)> OpenTo { get; init; } = [];

    /// <summary>The rule decides for this peer: known matches always; an undecidable one as far as it can only widen what is allowed.</summary>
    public bool Decides(Match match) => match == Match.Yes || (match == Match.Unknown && Action == PolicyAction.Allow);
}

/// <summary>One network policy of any supported API, parsed: whom it selects, for which directions, in which tier and order, and its rules.</summary>
public sealed class NetworkPolicyInfo
{
    internal NetworkPolicyInfo(Resource resource, PolicyFlavor flavor, string? ns, string name)
    {
        Resource = resource;
        Flavor = flavor;
        Namespace = ns;
        Name = name;
    }

    public Resource Resource { get; }

    public PolicyFlavor Flavor { get; }

    /// <summary>The policy's namespace; null for cluster-wide policies (Calico GlobalNetworkPolicy, CiliumClusterwideNetworkPolicy).</summary>
    public string? Namespace { get; }

    public string Name { get; }

    /// <summary>The path of the selector in the object (spec.podSelector, spec.selector, spec.endpointSelector).</summary>
    public string SelectorPath { get; internal init; } = "spec";

    /// <summary>Calico tier (default for everything else).</summary>
    public string Tier { get; internal init; } = NetworkModel.DefaultTier;

    /// <summary>Order within the tier (lower first; null last). Kubernetes policies under Calico have 1000.</summary>
    public double? Order { get; internal init; }

    /// <summary>The policy applies to a selected pod for ingress (it has ingress rules or isolates it).</summary>
    public bool AppliesToIngress => IsolatesIngress || IngressRules.Count > 0 || IngressDeny.Count > 0;

    public bool AppliesToEgress => IsolatesEgress || EgressRules.Count > 0 || EgressDeny.Count > 0;

    /// <summary>A selected pod is isolated for ingress: what no rule allows is denied.</summary>
    public bool IsolatesIngress { get; internal init; }

    public bool IsolatesEgress { get; internal init; }

    /// <summary>Kept for callers of the Kubernetes view: the policy isolates for ingress.</summary>
    public bool AffectsIngress => IsolatesIngress;

    public bool AffectsEgress => IsolatesEgress;

    public bool IsClusterWide => Namespace is null;

    public string KindName => Flavor switch
    {
        PolicyFlavor.Kubernetes => "NetworkPolicy",
        PolicyFlavor.Calico => "Calico NetworkPolicy",
        PolicyFlavor.CalicoGlobal => "GlobalNetworkPolicy",
        PolicyFlavor.Cilium => "CiliumNetworkPolicy",
        _ => "CiliumClusterwideNetworkPolicy",
    };

    internal Func<NetworkModel, NetworkWorkload, bool> Selects { get; init; } = (_, _) => false;

    internal List<PolicyRule> IngressRules { get; init; } = [];

    internal List<PolicyRule> EgressRules { get; init; } = [];

    /// <summary>Cilium deny rules: they win over every allow, whatever policy allows.</summary>
    internal List<PolicyRule> IngressDeny { get; init; } = [];

    internal List<PolicyRule> EgressDeny { get; init; } = [];

    internal IEnumerable<PolicyRule> AllRules => IngressRules.Concat(EgressRules).Concat(IngressDeny).Concat(EgressDeny);

    public override string ToString() => Flavor == PolicyFlavor.Kubernetes ? $"{Namespace}/{Name}" : Namespace is null ? $"{KindName} {Name}" : $"{KindName} {Namespace}/{Name}";
}
