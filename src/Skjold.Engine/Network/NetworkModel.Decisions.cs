
namespace Skjold.Engine.Network;

/// <summary>How a connection is decided: each workload's plan of tiers and policies per direction, and the verdict of a plan for one peer, address and port.</summary>
public sealed partial class NetworkModel
{
    private sealed class Plan
    {
        public List<(NetworkPolicyInfo Policy, PolicyRule Rule)> Denies { get; } = [];

        public List<TierPlan> Tiers { get; } = [];

        public List<NetworkPolicyInfo> Policies { get; } = [];
    }

    private sealed record TierPlan(string Name, bool Isolates, bool DefaultPass, List<NetworkPolicyInfo> Policies);

    private Plan BuildPlan(NetworkWorkload w, bool egress)
    {
        var plan = new Plan();
        if (w.HostNetwork)
        {
            return plan;
        }

        foreach (var p in _policies)
        {
            if ((egress ? p.AppliesToEgress : p.AppliesToIngress) && p.Selects(this, w))
            {
                plan.Policies.Add(p);
            }
        }

        if (plan.Policies.Count == 0)
        {
            return plan;
        }

        foreach (var p in plan.Policies)
        {
            foreach (var rule in egress ? p.EgressDeny : p.IngressDeny)
            {
                plan.Denies.Add((p, rule));
            }
        }

        if (!HasCalico)
        {
            // Kubernetes and Cilium policies: one tier, no order.
            plan.Tiers.Add(new TierPlan(DefaultTier, plan.Policies.Any(p => egress ? p.IsolatesEgress : p.IsolatesIngress), false, plan.Policies));
            return plan;
        }

        foreach (var tier in plan.Policies.GroupBy(p => p.Tier).OrderBy(g => TierOrder(g.Key)).ThenBy(g => g.Key, StringComparer.Ordinal))
        {
            var ordered = tier.OrderBy(p => p.Order ?? double.PositiveInfinity).ThenBy(p => HasCalico ? CalicoSortName(p) : string.Empty, StringComparer.Ordinal).ToList();
            var isolates = ordered.Any(p => egress ? p.IsolatesEgress : p.IsolatesIngress);
            plan.Tiers.Add(new TierPlan(tier.Key, isolates, _tiers.TryGetValue(tier.Key, out var t) && t.DefaultPass, ordered));
        }

        plan.Policies.Clear();
        plan.Policies.AddRange(plan.Tiers.SelectMany(t => t.Policies));
        return plan;
    }

    private double TierOrder(string tier) => _tiers.TryGetValue(tier, out var t) && t.Order is { } o ? o : double.PositiveInfinity;

    private static string CalicoSortName(NetworkPolicyInfo p) => p.Flavor == PolicyFlavor.Kubernetes ? $"knp.default.{p.Name}" : p.Name;

    /// <summary>
    /// One side of a connection: what the local endpoint's policies allow with one peer (a workload,
    /// or the external <paramref name="address"/> when <paramref name="peer"/> is null).
    /// </summary>
    private ConnectionSet Decide(Plan plan, NetworkWorkload local, NetworkWorkload? peer, uint address, NetworkWorkload? destination, bool egress,
        List<string>? allowedBy, List<string>? deniedBy)
    {
        if (plan.Policies.Count == 0)
        {
            return ConnectionSet.All;
        }

        var remaining = ConnectionSet.All;
        foreach (var (p, rule) in plan.Denies)
        {
            if (rule.Matches(this, local, peer, address) != Match.Yes)
            {
                continue; // a deny rule counts only where it surely matches
            }

            var conns = rule.Connections(destination).Intersect(remaining);
            if (!conns.IsEmpty)
            {
                deniedBy?.Add($"{p} rule {rule.Path}: {conns}");
                remaining = remaining.Subtract(conns);
            }
        }

        var allowed = ConnectionSet.None;
        var decidedByTier = false;
        foreach (var tier in plan.Tiers)
        {
            if (remaining.IsEmpty)
            {
                break;
            }

            var passed = ConnectionSet.None;
            foreach (var p in tier.Policies)
            {
                foreach (var rule in egress ? p.EgressRules : p.IngressRules)
                {
                    if (remaining.IsEmpty)
                    {
                        break;
                    }

                    if (rule.Action == PolicyAction.Log || !rule.Decides(rule.Matches(this, local, peer, address)))
                    {
                        continue;
                    }

                    var conns = rule.Connections(destination).Intersect(remaining);
                    if (conns.IsEmpty)
                    {
                        continue;
                    }

                    remaining = remaining.Subtract(conns);
                    switch (rule.Action)
                    {
                        case PolicyAction.Allow:
                            allowed = allowed.Union(conns);
                            allowedBy?.Add(Flavorless(p) ? $"{p} rule {rule.Index}: {conns}" : $"{p} rule {rule.Path}: {conns}");
                            break;
                        case PolicyAction.Deny:
                            deniedBy?.Add($"{p} rule {rule.Path}: {conns}");
                            break;
                        default:
                            passed = passed.Union(conns);
                            break;
                    }
                }
            }

            if (tier.Isolates && !tier.DefaultPass)
            {
                decidedByTier = true;
                remaining = passed; // the tier denies what it did not decide
            }
            else
            {
                remaining = remaining.Union(passed);
            }
        }

        if (!remaining.IsEmpty)
        {
            // Past the last tier: Calico's namespace profile, or no default deny at all, allows.
            allowed = allowed.Union(remaining);
            if (decidedByTier || plan.Tiers.Count > 0)
            {
                allowedBy?.Add($"no policy decides {remaining}: allowed by default");
            }
        }

        return allowed;
    }

    private static bool Flavorless(NetworkPolicyInfo p) => p.Flavor == PolicyFlavor.Kubernetes;
}
