using System.Collections.Frozen;
using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Skjold.Engine.Rbac;

/// <summary>
/// The built-in resource table (<c>Data/api-resources.yaml</c>): which group a bare resource name
/// belongs to, whether a kind is namespaced, and which subresources exist, per Kubernetes minor.
/// Custom resources come from the CustomResourceDefinitions of the input (<see cref="WithCustom"/>).
/// </summary>
public sealed class ApiResources
{
    private static readonly Lazy<ApiResources> LazyBuiltIn = new(Load);

    private readonly FrozenDictionary<string, ApiResource[]> _byResource;
    private readonly FrozenDictionary<(string Group, string Kind), ApiResource> _byKind;

    private ApiResources(IReadOnlyList<ApiResource> all)
    {
        All = all;
        _byResource = all.GroupBy(r => r.Resource, StringComparer.Ordinal).ToFrozenDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        var byKind = new Dictionary<(string, string), ApiResource>();
        foreach (var r in all)
        {
            if (r.Kind is not null)
            {
                byKind.TryAdd((r.Group, r.Kind), r);
            }
        }

        _byKind = byKind.ToFrozenDictionary();
    }

    /// <summary>The built-in resources of every known minor version.</summary>
    public static ApiResources BuiltIn => LazyBuiltIn.Value;

    public IReadOnlyList<ApiResource> All { get; }

    /// <summary>This table plus custom resources (group, plural, kind, namespaced), which win over built-ins of the same group and name.</summary>
    public ApiResources WithCustom(IEnumerable<ApiResource> custom)
    {
        var list = custom.ToList();
        if (list.Count == 0)
        {
            return this;
        }

        var keys = list.Select(c => (c.Group, c.Resource)).ToHashSet();
        return new ApiResources([.. list, .. All.Where(r => !keys.Contains((r.Group, r.Resource)))]);
    }

    /// <summary>
    /// The resource a name refers to in Kubernetes 1.<paramref name="minor"/>: with a group, that
    /// group's; without one, as kubectl resolves a bare name (the core group first, then the served
    /// group listed first). Null when the name is unknown.
    /// </summary>
    public ApiResource? Resolve(string resource, string? group, int minor)
    {
        if (!_byResource.TryGetValue(resource, out var candidates))
        {
            return null;
        }

        ApiResource? fallback = null;
        foreach (var c in candidates)
        {
            if (group is not null && c.Group != group)
            {
                continue;
            }

            if (c.ServedIn(minor))
            {
                return c;
            }

            fallback ??= c;
        }

        return fallback;
    }

    /// <summary>Whether objects of this apiVersion and kind are namespaced; null when the kind is not known.</summary>
    public bool? IsNamespacedKind(string apiVersion, string kind)
    {
        var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        var group = slash < 0 ? string.Empty : apiVersion[..slash];
        return _byKind.TryGetValue((group, kind), out var r) ? r.Namespaced : null;
    }

    /// <summary>Whether the resource is namespaced; null when neither built in nor defined by a CRD in the input.</summary>
    public bool? IsNamespaced(string group, string resource)
    {
        if (_byResource.TryGetValue(resource, out var candidates))
        {
            foreach (var c in candidates)
            {
                if (c.Group == group)
                {
                    return c.Namespaced;
                }
            }
        }

        return null;
    }

    private static ApiResources Load()
    {
        using var stream = typeof(ApiResources).Assembly.GetManifestResourceStream("Skjold.Engine.Data.api-resources.yaml")
            ?? throw new InvalidOperationException("embedded data file api-resources.yaml is missing");
        var yaml = new YamlStream();
        yaml.Load(new StreamReader(stream));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        var list = new List<ApiResource>();
        foreach (var node in ((YamlSequenceNode)root.Children["resources"]).Children.Cast<YamlMappingNode>())
        {
            var subs = new List<(string, int)>();
            if (node.Children.TryGetValue("subresources", out var s))
            {
                foreach (var item in ((YamlSequenceNode)s).Children)
                {
                    var text = ((YamlScalarNode)item).Value ?? string.Empty;
                    var at = text.IndexOf('@', StringComparison.Ordinal);
                    subs.Add(at < 0 ? (text, 0) : (text[..at], int.Parse(text[(at + 1)..], CultureInfo.InvariantCulture)));
                }
            }

            list.Add(new ApiResource(
                Scalar(node, "group") ?? string.Empty,
                Scalar(node, "resource") ?? throw new InvalidOperationException("api-resources.yaml: an entry has no resource"),
                Scalar(node, "kind"),
                Scalar(node, "namespaced") == "true",
                subs,
                Scalar(node, "since") is { } since ? int.Parse(since, CultureInfo.InvariantCulture) : 0,
                Scalar(node, "removed") is { } removed ? int.Parse(removed, CultureInfo.InvariantCulture) : null,
                Scalar(node, "virtual") == "true"));
        }

        return new ApiResources(list);
    }

    private static string? Scalar(YamlMappingNode m, string key) => m.Children.TryGetValue(key, out var v) ? ((YamlScalarNode)v).Value : null;
}
