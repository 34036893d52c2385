using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Skjold.Engine.Model;
using Skjold.Engine.Workloads;

namespace Skjold.Engine.Network;

/// <summary>Reading the model's input: workloads and their labels as each plugin sees them, namespaces, API groups, address blocks and CIDRs.</summary>
public sealed partial class NetworkModel
{
    private static string GroupOf(Resource r)
    {
        var slash = r.Ref.ApiVersion.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? string.Empty : r.Ref.ApiVersion[..slash];
    }

    internal static string Display(Resource r) => r.Ref.Namespace is { } ns ? $"{ns}/{r.Ref.Name}" : r.Ref.Name;

    internal void Note(Resource r, string path, string message) => _notes.Add(new NetworkNote(r, path, message));

    /// <summary>Policy kinds of other plugins and APIs, which the model does not evaluate; null for anything else.</summary>
    private static string? UnmodelledPolicyKind(Resource r, string group)
    {
        if (group == "policy.networking.k8s.io" && r.Kind is "AdminNetworkPolicy" or "BaselineAdminNetworkPolicy" or "ClusterNetworkPolicy")
        {
            return "cluster network policies of the network-policy API are not modelled";
        }

        if (r.Kind == "NetworkPolicy" && group is "networking.k8s.io" or "extensions")
        {
            return "this API version of NetworkPolicy is not modelled (only networking.k8s.io/v1)";
        }

        if (r.Kind == "MultiNetworkPolicy")
        {
            return "policies of secondary networks are not modelled";
        }

        if (r.Kind.EndsWith("NetworkPolicy", StringComparison.Ordinal) || r.Kind.EndsWith("NetworkPolicies", StringComparison.Ordinal))
        {
            return $"{(group.Length == 0 ? "this" : group)} policy kind is not modelled";
        }

        return null;
    }

    private static uint[] Boundaries(IEnumerable<PolicyRule> rules, List<(uint Lo, uint Hi)> extra)
    {
        var bounds = new SortedSet<uint> { 0 };
        foreach (var (lo, hi) in rules.SelectMany(r => r.Boundaries).Concat(extra))
        {
            bounds.Add(lo);
            if (hi < uint.MaxValue)
            {
                bounds.Add(hi + 1);
            }
        }

        return [.. bounds];
    }
    private void Namespace(string name)
    {
        if (!_namespaces.ContainsKey(name))
        {
            _namespaces[name] = new Dictionary<string, string>(StringComparer.Ordinal) { [NamespaceNameLabel] = name };
        }
    }

    /// <summary>
    /// The labels Calico gives a pod's endpoint: the pod's, projectcalico.org/namespace,
    /// projectcalico.org/orchestrator and projectcalico.org/serviceaccount, and its namespace's and
    /// service account's labels with the pcns. and pcsa. prefixes.
    /// </summary>
    private Dictionary<string, string> CalicoLabelsOf(NetworkWorkload w)
    {
        var labels = new Dictionary<string, string>(w.Labels, StringComparer.Ordinal)
        {
            ["projectcalico.org/namespace"] = w.Namespace,
            ["projectcalico.org/orchestrator"] = "k8s",
            ["projectcalico.org/serviceaccount"] = w.ServiceAccount,
        };
        foreach (var (k, v) in NamespaceLabels(w.Namespace))
        {
            labels["pcns." + k] = v;
        }

        labels["pcns.projectcalico.org/name"] = w.Namespace;
        if (ServiceAccountLabels.TryGetValue((w.Namespace, w.ServiceAccount), out var sa))
        {
            foreach (var (k, v) in sa)
            {
                labels["pcsa." + k] = v;
            }
        }

        labels["pcsa.projectcalico.org/name"] = w.ServiceAccount;
        return labels;
    }

    /// <summary>The labels Cilium gives a pod's identity: the pod's, its namespace (io.kubernetes.pod.namespace), the namespace's labels, service account and cluster.</summary>
    private Dictionary<string, string> CiliumLabelsOf(NetworkWorkload w)
    {
        var labels = new Dictionary<string, string>(w.Labels, StringComparer.Ordinal)
        {
            [CiliumPolicies.NamespaceKey] = w.Namespace,
            ["io.cilium.k8s.policy.serviceaccount"] = w.ServiceAccount,
            ["io.cilium.k8s.policy.cluster"] = "default",
        };
        foreach (var (k, v) in NamespaceLabels(w.Namespace))
        {
            labels["io.cilium.k8s.namespace.labels." + k] = v;
        }

        return labels;
    }

    private static NetworkWorkload? ReadWorkload(Resource r, ResourceIndex index, bool hostNetworkOutsidePolicy)
    {
        JsonElement template;
        switch (r.Kind)
        {
            case "Pod":
                template = r.Root;
                break;
            case "Deployment" or "StatefulSet" or "DaemonSet" or "ReplicaSet" or "Job" or "ReplicationController":
                template = Json.Get(Json.Get(r.Root, "spec"u8), "template"u8);
                break;
            case "CronJob":
                template = Json.Get(Json.Get(Json.Get(Json.Get(r.Root, "spec"u8), "jobTemplate"u8), "spec"u8), "template"u8);
                break;
            default:
                return null;
        }

        if (index.IsCoveredByController(r))
        {
            return null; // its controller stands for it
        }

        var ns = r.Ref.Namespace ?? "default";
        var name = r.Ref.Name;
        var kind = r.Kind;
        if (r.Kind == "Pod" && ControllerOf(r) is { } owner && owner.Kind is "ReplicaSet" or "Deployment" or "StatefulSet" or "DaemonSet" or "Job" or "CronJob" or "ReplicationController")
        {
            (kind, name) = owner; // mirror pods (owned by a Node) and others stand for themselves
        }

        var spec = Json.Get(template, "spec"u8);
        var ports = new List<NamedPort>();
        foreach (var field in new[] { "containers", "initContainers" })
        {
            var containers = Json.Get(spec, field);
            if (containers.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            foreach (var c in containers.EnumerateArray())
            {
                var list = Json.Get(c, "ports"u8);
                if (list.ValueKind != JsonValueKind.Array)
                {
                    continue;
                }

                foreach (var p in list.EnumerateArray())
                {
                    if (Json.GetString(p, "name") is { Length: > 0 } portName && Json.GetInt64(Json.Get(p, "containerPort"u8)) is { } number)
                    {
                        ports.Add(new NamedPort(portName, (int)number, Json.GetString(p, "protocol") ?? "TCP"));
                    }
                }
            }
        }

        var labels = ReadLabels(Json.Get(Json.Get(template, "metadata"u8), "labels"u8));
        var sa = Json.GetString(spec, "serviceAccountName") ?? Json.GetString(spec, "serviceAccount");
        return new NetworkWorkload(ns, name, kind, labels, ports, r, hostNetworkOutsidePolicy && Json.IsTrue(Json.Get(spec, "hostNetwork"u8)))
        {
            ServiceAccount = string.IsNullOrEmpty(sa) ? "default" : sa,
        };
    }

    private static (string Kind, string Name)? ControllerOf(Resource r)
    {
        var owners = Json.Get(Json.Get(r.Root, "metadata"u8), "ownerReferences"u8);
        if (owners.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        foreach (var o in owners.EnumerateArray())
        {
            if (Json.IsTrue(Json.Get(o, "controller"u8)) && Json.GetString(o, "kind") is { } kind && Json.GetString(o, "name") is { } name)
            {
                return (kind, name);
            }
        }

        return null;
    }

    internal static Dictionary<string, string> ReadLabels(JsonElement labels)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (labels.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in labels.EnumerateObject())
            {
                result[p.Name] = Json.AsString(p.Value) ?? p.Value.GetRawText();
            }
        }

        return result;
    }

    /// <summary>An IPv4 CIDR minus its excepts, as ranges; IPv6 blocks are kept out of the IPv4 model (empty).</summary>
    internal static List<(uint Lo, uint Hi)> ReadBlock(JsonElement block)
    {
        if (!TryRange(Json.GetString(block, "cidr"), out var whole))
        {
            return [];
        }

        var ranges = new List<(uint Lo, uint Hi)> { whole };
        var except = Json.Get(block, "except"u8);
        if (except.ValueKind == JsonValueKind.Array)
        {
            foreach (var e in except.EnumerateArray())
            {
                if (!TryRange(Json.AsString(e), out var cut))
                {
                    continue;
                }

                var next = new List<(uint Lo, uint Hi)>();
                foreach (var (lo, hi) in ranges)
                {
                    if (cut.Hi < lo || cut.Lo > hi)
                    {
                        next.Add((lo, hi));
                        continue;
                    }

                    if (cut.Lo > lo)
                    {
                        next.Add((lo, cut.Lo - 1));
                    }

                    if (cut.Hi < hi)
                    {
                        next.Add((cut.Hi + 1, hi));
                    }
                }

                ranges = next;
            }
        }

        return ranges;
    }

    internal static bool TryRange(string? cidr, out (uint Lo, uint Hi) range)
    {
        range = default;
        if (cidr is null || !IPNetwork.TryParse(cidr, out var network) || network.BaseAddress.AddressFamily != AddressFamily.InterNetwork)
        {
            // Kubernetes accepts a CIDR whose address has host bits set; normalise it.
            var slash = cidr?.IndexOf('/', StringComparison.Ordinal) ?? -1;
            if (slash < 0 || !IPAddress.TryParse(cidr![..slash], out var address) || address.AddressFamily != AddressFamily.InterNetwork
                || !int.TryParse(cidr[(slash + 1)..], out var bits) || bits is < 0 or > 32)
            {
                return false;
            }

            network = new IPNetwork(Mask(address, bits), bits);
        }

        var bytes = network.BaseAddress.GetAddressBytes();
        var lo = (uint)(bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]);
        var size = network.PrefixLength == 0 ? uint.MaxValue : (1u << (32 - network.PrefixLength)) - 1;
        range = (lo, lo + size);
        return true;
    }

    private static IPAddress Mask(IPAddress address, int bits)
    {
        var b = address.GetAddressBytes();
        var value = (uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]);
        var mask = bits == 0 ? 0u : uint.MaxValue << (32 - bits);
        value &= mask;
        return new IPAddress([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);
    }
}
