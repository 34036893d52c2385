using System.Text.Json;
using Skjold.Engine.Model;
using Skjold.Engine.Workloads;

namespace Skjold.Engine.Rbac;

/// <summary>Reading RBAC objects as the authorizer does: a binding's subjects, aggregated cluster roles, CRDs as API resources, and the rules of a role.</summary>
public sealed partial class RbacModel
{
    /// <summary>The subjects a binding names, as the authorizer matches them (see <see cref="RbacSubject.FromBinding"/>).</summary>
    public static IEnumerable<RbacSubject> Subjects(JsonElement binding, string? bindingNamespace)
    {
        var subjects = Json.Get(binding, "subjects"u8);
        if (subjects.ValueKind != JsonValueKind.Array)
        {
            yield break;
        }

        foreach (var s in subjects.EnumerateArray())
        {
            var kind = Json.GetString(s, "kind");
            var name = Json.GetString(s, "name");
            if (kind is not null && name is not null && RbacSubject.FromBinding(kind, name, Json.GetString(s, "namespace"), bindingNamespace) is { } subject)
            {
                yield return subject;
            }
        }
    }
    private static bool IsRbac(Resource r) => r.Ref.ApiVersion.StartsWith("rbac.authorization.k8s.io/", StringComparison.Ordinal);

    /// <summary>
    /// The rules of every ClusterRole, as the aggregation controller leaves them: a role with an
    /// aggregationRule holds the union of the rules of every other ClusterRole that one of its
    /// selectors matches (an empty selector matches all), repeated until nothing changes, since
    /// aggregated roles aggregate each other (view into edit into admin).
    /// </summary>
    private static Dictionary<string, IReadOnlyList<RbacRule>> Aggregate(Dictionary<string, Resource> clusterRoles)
    {
        var rules = new Dictionary<string, IReadOnlyList<RbacRule>>(StringComparer.Ordinal);
        var aggregated = new List<(string Name, List<LabelSelector> Selectors)>();
        foreach (var (name, r) in clusterRoles)
        {
            var selectors = Json.Get(Json.Get(r.Root, "aggregationRule"u8), "clusterRoleSelectors"u8);
            if (selectors.ValueKind == JsonValueKind.Array)
            {
                aggregated.Add((name, [.. selectors.EnumerateArray().Where(s => s.ValueKind == JsonValueKind.Object).Select(ResourceIndex.ReadSelector)]));
                rules[name] = [];
            }
            else
            {
                rules[name] = ReadRules(r.Root);
            }
        }

        if (aggregated.Count == 0)
        {
            return rules;
        }

        var matches = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (name, selectors) in aggregated)
        {
            var list = new List<string>();
            foreach (var (other, r) in clusterRoles)
            {
                if (other != name && selectors.Any(s => s.Matches(Json.Get(Json.Get(r.Root, "metadata"u8), "labels"u8))))
                {
                    list.Add(other);
                }
            }

            list.Sort(StringComparer.Ordinal);
            matches[name] = list;
        }

        for (var pass = 0; pass <= aggregated.Count; pass++)
        {
            var changed = false;
            foreach (var (name, _) in aggregated)
            {
                var union = new List<RbacRule>();
                var seen = new HashSet<RbacRule>();
                foreach (var m in matches[name])
                {
                    foreach (var rule in rules[m])
                    {
                        if (seen.Add(rule))
                        {
                            union.Add(rule);
                        }
                    }
                }

                if (union.Count != rules[name].Count)
                {
                    rules[name] = union;
                    changed = true;
                }
            }

            if (!changed)
            {
                break;
            }
        }

        return rules;
    }

    private static ApiResource? ReadCrd(Resource crd)
    {
        var spec = Json.Get(crd.Root, "spec"u8);
        var group = Json.GetString(spec, "group");
        var names = Json.Get(spec, "names"u8);
        var plural = Json.GetString(names, "plural");
        if (group is null || plural is null)
        {
            return null;
        }

        var subs = new List<(string, int)>();
        var versions = Json.Get(spec, "versions"u8);
        if (versions.ValueKind == JsonValueKind.Array)
        {
            foreach (var v in versions.EnumerateArray())
            {
                var sr = Json.Get(v, "subresources"u8);
                if (Json.Exists(Json.Get(sr, "status"u8)))
                {
                    subs.Add(("status", 0));
                }

                if (Json.Exists(Json.Get(sr, "scale"u8)))
                {
                    subs.Add(("scale", 0));
                }
            }
        }

        return new ApiResource(group, plural, Json.GetString(names, "kind"), Json.GetString(spec, "scope") != "Cluster", subs.Distinct().ToList(), 0, null, false);
    }

    private static List<RbacRule> ReadRules(JsonElement role)
    {
        var list = new List<RbacRule>();
        var rules = Json.Get(role, "rules"u8);
        if (rules.ValueKind != JsonValueKind.Array)
        {
            return list;
        }

        foreach (var r in rules.EnumerateArray())
        {
            list.Add(new RbacRule(Strings(r, "apiGroups"u8), Strings(r, "resources"u8), Strings(r, "verbs"u8), Strings(r, "resourceNames"u8), Strings(r, "nonResourceURLs"u8)));
        }

        return list;
    }

    private static string[] Strings(JsonElement obj, ReadOnlySpan<byte> name)
    {
        var a = Json.Get(obj, name);
        if (a.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        var list = new string[a.GetArrayLength()];
        var i = 0;
        foreach (var x in a.EnumerateArray())
        {
            list[i++] = Json.AsString(x) ?? string.Empty;
        }

        return list;
    }
}
