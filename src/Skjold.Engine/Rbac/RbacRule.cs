namespace Skjold.Engine.Rbac;

/// <summary>One PolicyRule of a Role or ClusterRole.</summary>
public sealed record RbacRule(
    IReadOnlyList<string> ApiGroups,
    IReadOnlyList<string> Resources,
    IReadOnlyList<string> Verbs,
    IReadOnlyList<string> ResourceNames,
    IReadOnlyList<string> NonResourceUrls)
{
    public bool AllowsVerb(string verb) => Contains(Verbs, verb);

    public bool AllowsGroup(string? group) => group is null || Contains(ApiGroups, group);

    /// <summary>RBAC resource matching: "*", "pods", "pods/exec", "pods/*" and "*/scale".</summary>
    public bool AllowsResource(string resource, string? subresource)
    {
        var full = subresource is null ? resource : resource + "/" + subresource;
        foreach (var r in Resources)
        {
            if (r == "*" || r == full)
            {
                return true;
            }

            if (subresource is not null && (r == resource + "/*" || r == "*/" + subresource))
            {
                return true;
            }
        }

        return false;
    }

    public bool AllowsName(string? name) => ResourceNames.Count == 0 || (name is not null && ResourceNames.Contains(name));

    public bool Allows(string verb, string? group, string resource, string? subresource, string? name) =>
        AllowsVerb(verb) && AllowsGroup(group) && AllowsResource(resource, subresource) && AllowsName(name);

    public bool IsWildcard => Verbs.Contains("*") || Resources.Contains("*") || ApiGroups.Contains("*");

    public override string ToString() =>
        NonResourceUrls.Count > 0
            ? $"{string.Join(",", Verbs)} on {string.Join(",", NonResourceUrls)}"
            : $"{string.Join(",", Verbs)} on {string.Join(",", Resources)}{(ApiGroups.Count > 0 && !(ApiGroups.Count == 1 && ApiGroups[0].Length == 0) ? $" ({string.Join(",", ApiGroups.Select(g => g.Length == 0 ? "core" : g))})" : string.Empty)}{(ResourceNames.Count > 0 ? $" named {string.Join(",", ResourceNames)}" : string.Empty)}";

    private static bool Contains(IReadOnlyList<string> list, string value)
    {
        foreach (var x in list)
        {
            if (x == "*" || x == value)
            {
                return true;
            }
        }

        return false;
    }
}
