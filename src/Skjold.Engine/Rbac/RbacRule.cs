namespace Skjold.Engine.Rbac;

/// <summary>
/// One PolicyRule of a Role or ClusterRole, matched as the API server's RBAC authorizer matches it
/// (k8s.io/kubernetes pkg/apis/rbac/v1 evaluation helpers): verbs and API groups by "*" or exact
/// value; resources by "*", exact "resource/subresource" or "*/subresource" (never "pods/*");
/// resourceNames exactly, and only when the rule lists any; non-resource URLs by "*", exact value,
/// or a trailing "*" prefix. All comparisons are case-sensitive.
/// </summary>
public sealed record RbacRule(
    IReadOnlyList<string> ApiGroups,
    IReadOnlyList<string> Resources,
    IReadOnlyList<string> Verbs,
    IReadOnlyList<string> ResourceNames,
    IReadOnlyList<string> NonResourceUrls)
{
    private string? _key;

    /// <summary>Whether the rule allows the request.</summary>
    public bool Allows(RbacRequest request)
    {
        if (!AllowsVerb(request.Verb))
        {
            return false;
        }

        if (!request.IsResourceRequest)
        {
            return AllowsPath(request.Path!);
        }

        return AllowsGroup(request.ApiGroup) && AllowsResource(request.Resource, request.Subresource) && AllowsName(request.Name);
    }

    public bool AllowsVerb(string verb) => Contains(Verbs, verb);

    public bool AllowsGroup(string group) => Contains(ApiGroups, group);

    public bool AllowsResource(string resource, string subresource)
    {
        var combined = subresource.Length == 0 ? resource : resource + "/" + subresource;
        foreach (var r in Resources)
        {
            if (r == "*" || r == combined)
            {
                return true;
            }

            if (subresource.Length > 0 && r.Length == subresource.Length + 2 && r.StartsWith("*/", StringComparison.Ordinal) && r.EndsWith(subresource, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A null name stands for any object: only a rule without resourceNames allows that.</summary>
    public bool AllowsName(string? name)
    {
        if (ResourceNames.Count == 0)
        {
            return true;
        }

        if (name is null)
        {
            return false;
        }

        foreach (var n in ResourceNames)
        {
            if (n == name)
            {
                return true;
            }
        }

        return false;
    }

    public bool AllowsPath(string path)
    {
        foreach (var u in NonResourceUrls)
        {
            if (u == "*" || u == path)
            {
                return true;
            }

            if (u.EndsWith('*') && path.StartsWith(u.TrimEnd('*'), StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether the rule uses "*" for verbs, resources or API groups.</summary>
    public bool IsWildcard => Verbs.Contains("*") || Resources.Contains("*") || ApiGroups.Contains("*");

    /// <summary>Every verb on every resource of every group: what cluster-admin holds.</summary>
    public bool IsFullWildcard => Verbs.Contains("*") && Resources.Contains("*") && ApiGroups.Contains("*") && ResourceNames.Count == 0;

    /// <summary>A key that is equal for rules with the same content (records compare lists by reference).</summary>
    public string Key => _key ??= string.Join("|", string.Join(",", ApiGroups), string.Join(",", Resources), string.Join(",", Verbs), string.Join(",", ResourceNames), string.Join(",", NonResourceUrls));

    public bool Equals(RbacRule? other) => other is not null && Key == other.Key;

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Key);

    public override string ToString()
    {
        var verbs = string.Join(",", Verbs);
        if (NonResourceUrls.Count > 0 && Resources.Count == 0)
        {
            return $"{verbs} on {string.Join(",", NonResourceUrls)}";
        }

        var groups = ApiGroups.Count > 0 && !(ApiGroups.Count == 1 && ApiGroups[0].Length == 0)
            ? $" ({string.Join(",", ApiGroups.Select(g => g.Length == 0 ? "core" : g))})"
            : string.Empty;
        var names = ResourceNames.Count > 0 ? $" named {string.Join(",", ResourceNames)}" : string.Empty;
        var urls = NonResourceUrls.Count > 0 ? $" and {string.Join(",", NonResourceUrls)}" : string.Empty;
        return $"{verbs} on {string.Join(",", Resources)}{groups}{names}{urls}";
    }

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
