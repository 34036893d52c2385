using System.Globalization;
using System.Text.Json;
using Skjold.Engine.Model;

namespace Skjold.Engine.Network;

/// <summary>Calico's endpoint matching: selectors, namespace and service-account selectors, nets and network sets, and protocol and port values.</summary>
public sealed partial class NetworkModel
{
    /// <summary>Whether an endpoint (a workload, or the external address) is one the entity rule names.</summary>
    private Match MatchEntity(CalicoEntity e, string? policyNamespace, NetworkWorkload? w, uint address)
    {
        var result = Match.Yes;
        if (w is null)
        {
            if (e.Nets is { } nets)
            {
                result = And(result, In(nets, address));
            }

            if (e.NotNets is { } notNets)
            {
                result = And(result, Not(In(notNets, address)));
            }

            if (e.Selector is not null || e.NamespaceSelector is not null)
            {
                result = And(result, NetworkSetMatch(e.Selector, e.NamespaceSelector, policyNamespace, address));
            }

            if (e.NotSelector is { } notSelector)
            {
                result = And(result, Not(NetworkSetMatch(notSelector, e.NamespaceSelector, policyNamespace, address)));
            }

            if (e.ServiceAccountNames is not null || e.ServiceAccountSelector is not null)
            {
                result = Match.No;
            }

            if (e.Service is { } svc)
            {
                // A service without a selector points at addresses the input does not show.
                result = And(result, Services.TryGetValue((svc.Namespace ?? policyNamespace ?? "default", svc.Name), out var s) && s.Selector is not null ? Match.No : Match.Unknown);
            }

            return result;
        }

        if (e.Nets is { } podNets)
        {
            result = And(result, PodsIn(podNets));
        }

        if (e.NotNets is { } podNotNets)
        {
            result = And(result, Not(PodsIn(podNotNets)));
        }

        var inScope = e.NamespaceSelector is { } nss ? nss.Matches(CalicoNamespaceLabels(w.Namespace)) : policyNamespace is null || w.Namespace == policyNamespace;
        if (e.Selector is { } selector)
        {
            result = And(result, inScope && selector.Matches(CalicoLabels(w)) ? Match.Yes : Match.No);
        }
        else if (e.NamespaceSelector is not null)
        {
            result = And(result, inScope ? Match.Yes : Match.No);
        }

        if (e.NotSelector is { } not)
        {
            result = And(result, inScope && not.Matches(CalicoLabels(w)) ? Match.No : Match.Yes);
        }

        if (e.ServiceAccountNames is not null || e.ServiceAccountSelector is not null)
        {
            var ok = (e.ServiceAccountNames is null || e.ServiceAccountNames.Contains(w.ServiceAccount, StringComparer.Ordinal))
                && (e.ServiceAccountSelector is null || e.ServiceAccountSelector.Matches(CalicoServiceAccountLabels(w)));
            result = And(result, ok ? Match.Yes : Match.No);
        }

        if (e.Service is { } service)
        {
            var key = (service.Namespace ?? policyNamespace ?? "default", service.Name);
            result = And(result, !Services.TryGetValue(key, out var s) ? Match.Unknown
                : s.Selector is { } sel && w.Namespace == key.Item1 && sel.Matches(w.Labels) ? Match.Yes : Match.No);
        }

        return result;
    }

    private Match NetworkSetMatch(CalicoSelector? selector, CalicoSelector? nsSelector, string? policyNamespace, uint address)
    {
        foreach (var set in NetworkSets)
        {
            if (!set.Ranges.Any(r => r.Lo <= address && address <= r.Hi))
            {
                continue;
            }

            var inScope = nsSelector is not null
                ? set.Global ? nsSelector.Matches(new Dictionary<string, string>(), global: true) : nsSelector.Matches(CalicoNamespaceLabels(set.Namespace!))
                : policyNamespace is null || set.Namespace == policyNamespace;
            if (inScope && (selector is null || selector.Matches(set.Labels, set.Global)))
            {
                return Match.Yes;
            }
        }

        return Match.No;
    }

    private static Match In(List<(uint Lo, uint Hi)> ranges, uint address) => ranges.Any(r => r.Lo <= address && address <= r.Hi) ? Match.Yes : Match.No;

    internal static Match And(Match a, Match b) => a == Match.No || b == Match.No ? Match.No : a == Match.Unknown || b == Match.Unknown ? Match.Unknown : Match.Yes;

    internal static Match Not(Match a) => a switch { Match.Yes => Match.No, Match.No => Match.Yes, _ => Match.Unknown };

    /// <summary>The connections of a Calico protocol value: a name or number; null means every protocol; ICMP and others are outside the model.</summary>
    private static ConnectionSet Protocols(JsonElement protocol, out string? name)
    {
        name = protocol.ValueKind switch
        {
            JsonValueKind.String => protocol.GetString()!.ToUpperInvariant(),
            JsonValueKind.Number => protocol.GetInt64() switch { 6 => "TCP", 17 => "UDP", 132 => "SCTP", var n => n.ToString(CultureInfo.InvariantCulture) },
            _ => null,
        };
        name = name switch { "6" => "TCP", "17" => "UDP", "132" => "SCTP", _ => name };
        return name is null ? ConnectionSet.All : ConnectionSet.ProtocolIndex(name) >= 0 ? ConnectionSet.AllOf(name) : ConnectionSet.None;
    }

    /// <summary>Calico ports: numbers, "lo:hi" ranges and named ports, for the rule's protocol (every protocol when it has none).</summary>
    private static PortSet ReadCalicoPorts(JsonElement ports, string? protocol)
    {
        if (ports.ValueKind != JsonValueKind.Array || ports.GetArrayLength() == 0)
        {
            return PortSet.Every;
        }

        var protocols = protocol is not null && ConnectionSet.ProtocolIndex(protocol) >= 0 ? [protocol] : ConnectionSet.Protocols;
        var set = ConnectionSet.None;
        var named = new List<(string, string?)>();
        foreach (var p in ports.EnumerateArray())
        {
            int lo, hi;
            if (p.ValueKind == JsonValueKind.Number)
            {
                lo = hi = (int)p.GetInt64();
            }
            else if (Json.AsString(p) is { } text)
            {
                var colon = text.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && int.TryParse(text[..colon], CultureInfo.InvariantCulture, out lo) && int.TryParse(text[(colon + 1)..], CultureInfo.InvariantCulture, out hi))
                {
                }
                else if (int.TryParse(text, CultureInfo.InvariantCulture, out lo))
                {
                    hi = lo;
                }
                else
                {
                    named.Add((text, protocol is not null && ConnectionSet.ProtocolIndex(protocol) >= 0 ? protocol : null));
                    continue;
                }
            }
            else
            {
                continue;
            }

            foreach (var proto in protocols)
            {
                set = set.Union(ConnectionSet.Of(proto, lo, hi));
            }
        }

        return new PortSet(set, named);
    }
}
