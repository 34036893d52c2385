using System.Text.Json;
using Skjold.Engine.Model;
using Skjold.Engine.Rbac;

namespace Skjold.Kubernetes.Loading;

/// <summary>
/// One rule for every check: a namespaced object without metadata.namespace is in the namespace
/// kubectl apply would put it in (the loader's <see cref="LoaderOptions.DefaultNamespace"/>).
/// Whether a kind is namespaced comes from the built-in resource table or a
/// CustomResourceDefinition in the same input; objects of kinds known to neither keep no namespace.
/// </summary>
internal static class NamespaceDefaults
{
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
            if (namespaced is null && crds is not null)
            {
                var slash = r.Ref.ApiVersion.IndexOf('/', StringComparison.Ordinal);
                namespaced = crds.TryGetValue((slash < 0 ? string.Empty : r.Ref.ApiVersion[..slash], r.Kind), out var n) ? n : null;
            }

            if (namespaced == true)
            {
                resources[i] = r.InDefaultNamespace(ns);
            }
        }
    }
}
