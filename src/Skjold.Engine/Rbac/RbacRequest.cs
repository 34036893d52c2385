namespace Skjold.Engine.Rbac;

/// <summary>
/// A request as the RBAC authorizer sees it: a resource request (verb, API group, resource,
/// subresource, name, namespace) or a non-resource request (verb and <see cref="Path"/>).
/// <see cref="Namespace"/> is empty for cluster-scoped resources and non-resource URLs, which
/// RoleBindings never grant. A null <see cref="Name"/> stands for "any object": only rules without
/// resourceNames allow it.
/// </summary>
public sealed record RbacRequest(string Verb, string ApiGroup, string Resource, string Subresource, string? Name, string Namespace, string? Path = null)
{
    public bool IsResourceRequest => Path is null;

    /// <summary>
    /// A resource request in <paramref name="ns"/> (empty: cluster-scoped). A request on one Namespace
    /// object (<c>/api/v1/namespaces/NAME</c>, and its status and finalize subresources) is in that
    /// namespace, as the API server's request-info parser reads the path: so a RoleBinding in namespace
    /// X that grants a verb on namespaces allows it on namespace X itself.
    /// </summary>
    public static RbacRequest ForResource(string verb, string group, string resource, string subresource = "", string? name = "", string ns = "")
    {
        var named = NameOf(verb, subresource, name);
        return new(verb, group, resource, subresource, named, IsNamespaceObject(group, resource) && named is { Length: > 0 } n ? n : ns);
    }

    /// <summary>The core group's namespaces resource: its named requests carry the namespace's own name as their namespace.</summary>
    public static bool IsNamespaceObject(string group, string resource) => group.Length == 0 && resource == "namespaces";

    /// <summary>A non-resource request such as <c>get /metrics</c>.</summary>
    public static RbacRequest ForPath(string verb, string path) => new(verb, string.Empty, string.Empty, string.Empty, string.Empty, string.Empty, path);

    /// <summary>
    /// Creating an object (other than through a subresource) and deleting a collection carry no
    /// name in the request, so rules limited by resourceNames never allow them.
    /// </summary>
    private static string? NameOf(string verb, string subresource, string? name) =>
        (verb == "create" && subresource.Length == 0) || verb == "deletecollection" ? string.Empty : name;

    public override string ToString()
    {
        if (!IsResourceRequest)
        {
            return $"{Verb} {Path}";
        }

        var what = Resource + (Subresource.Length > 0 ? "/" + Subresource : string.Empty) + (ApiGroup.Length > 0 ? "." + ApiGroup : string.Empty);
        var named = Name is { Length: > 0 } n ? $" named {n}" : string.Empty;
        var where = Namespace.Length > 0 ? $" in namespace {Namespace}" : string.Empty;
        return $"{Verb} {what}{named}{where}";
    }
}
