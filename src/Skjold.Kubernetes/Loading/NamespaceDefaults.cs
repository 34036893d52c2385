using Skjold.Engine.Model;
using Skjold.Engine.Rbac;

namespace Skjold.Kubernetes.Loading;

/// <summary>
/// One rule for every check: a namespaced object without metadata.namespace is in the namespace
/// kubectl apply would put it in (the loader's <see cref="LoaderOptions.DefaultNamespace"/>).
/// Whether a kind is namespaced comes from the built-in resource table or a
/// CustomResourceDefinition in the same input, or for the network policies of Calico, Cilium and the
/// network-policy API a table of their scopes; objects of kinds known to none keep no namespace.
/// </summary>
internal static class NamespaceDefaults
{
    /// <summary>Custom resources the network model reads, whose scope is known without their CRD in the input.</summary>
    private static readonly Dictionary<(string Group, string Kind), bool> WellKnown = new()
    {
        [("projectcalico.org", "NetworkPolicy")] = true,
        [("projectcalico.org", "NetworkSet")] = true,
        [("projectcalico.org", "StagedNetworkPolicy")] = true,
        [("projectcalico.org", "StagedKubernetesNetworkPolicy")] = true,
        [("projectcalico.org", "GlobalNetworkPolicy")] = false,
        [("projectcalico.org", "StagedGlobalNetworkPolicy")] = false,
        [("projectcalico.org", "GlobalNetworkSet")] = false,
        [("projectcalico.org", "Tier")] = false,
        [("projectcalico.org", "IPPool")] = false,
        [("crd.projectcalico.org", "NetworkPolicy")] = true,
        [("crd.projectcalico.org", "NetworkSet")] = true,
        [("crd.projectcalico.org", "GlobalNetworkPolicy")] = false,
        [("crd.projectcalico.org", "GlobalNetworkSet")] = false,
        [("crd.projectcalico.org", "Tier")] = false,
        [("crd.projectcalico.org", "IPPool")] = false,
        [("cilium.io", "CiliumNetworkPolicy")] = true,
        [("cilium.io", "CiliumClusterwideNetworkPolicy")] = false,
        [("cilium.io", "CiliumCIDRGroup")] = false,
        [("policy.networking.k8s.io", "AdminNetworkPolicy")] = false,
        [("policy.networking.k8s.io", "BaselineAdminNetworkPolicy")] = false,
    };

    public static void Apply(List<Resource> resources, string ns)
    {
        Dictionary<(string Group, string Kind), bool>? crds = null;
        foreach (var r in resources)
        {
            if (r.Kind == "CustomResourceDefinition" && r.Ref.ApiVersion.StartsWith("apiextensions.k8s.io/", StringComparison.Ordinal))
            {
                var spec = Json.Get(r.Root, "spec"u8);
                if (Json.GetString(spec, "group") is { } group && Json.GetString(Json.Get(spec, "names"u8), "kind") is { } kind)
                {
                    (crds ??= [])[(group, kind)] = Json.GetString(spec, "scope") != "Cluster";
                }
            }
        }

        for (var i = 0; i < resources.Count; i++)
        {
            var r = resources[i];
            if (r.Ref.Namespace is not null || r.Kind.Length == 0)
            {
                continue;
            }

            var namespaced = ApiResources.BuiltIn.IsNamespacedKind(r.Ref.ApiVersion, r.Kind);
            var slash = r.Ref.ApiVersion.IndexOf('/', StringComparison.Ordinal);
            var group = slash < 0 ? string.Empty : r.Ref.ApiVersion[..slash];
            if (namespaced is null && crds is not null)
            {
                namespaced = crds.TryGetValue((group, r.Kind), out var n) ? n : null;
            }

            if (namespaced is null && WellKnown.TryGetValue((group, r.Kind), out var known))
            {
                namespaced = known;
            }

            if (namespaced == true)
            {
                resources[i] = r.InDefaultNamespace(ns);
            }
        }
    }
}
