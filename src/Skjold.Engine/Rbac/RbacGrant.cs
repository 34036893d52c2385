using Skjold.Engine.Model;

namespace Skjold.Engine.Rbac;

/// <summary>
/// A permission a subject holds: rule <see cref="RuleIndex"/> of a role, bound to the subject by a
/// binding, valid in one namespace (<see cref="Namespace"/>, a RoleBinding) or cluster-wide (null,
/// a ClusterRoleBinding). A RoleBinding grants only namespaced resources in its own namespace,
/// never cluster-scoped resources or non-resource URLs, whatever its role says.
/// </summary>
public sealed record RbacGrant(RbacSubject Subject, RbacRule Rule, int RuleIndex, string? Namespace, Resource Binding, string RoleKind, string RoleName, bool RoleFromBootstrap)
{
    public string Scope => Namespace is null ? "cluster-wide" : $"in namespace {Namespace}";

    public bool BindingFromBootstrap => BootstrapPolicy.IsFromBootstrap(Binding);

    public string Via =>
        $"{Binding.Ref.Kind} {(Binding.Ref.Namespace is null || Binding.Ref.Kind == "ClusterRoleBinding" ? string.Empty : Binding.Ref.Namespace + "/")}{Binding.Ref.Name}{(BindingFromBootstrap ? " (bootstrap policy)" : string.Empty)}"
        + $" -> {RoleKind} {RoleName}{(RoleFromBootstrap && !BindingFromBootstrap ? " (bootstrap policy)" : string.Empty)}";

    /// <summary>"rule 2 of ClusterRole view: get,list,watch on pods".</summary>
    public string RuleText => $"rule {RuleIndex} of {RoleKind} {RoleName}: {Rule}";

    /// <summary>
    /// Whether the grant can allow any request at all. The authorizer asks a RoleBinding only about
    /// requests in its own namespace, so its rules on cluster-scoped resources and its non-resource URLs
    /// grant nothing; the exception is the namespaces resource, whose requests on one Namespace object
    /// are in that namespace (get, update, patch, delete, watch of the binding's own namespace).
    /// A resource neither built in nor defined by a CRD in the input counts as possibly namespaced.
    /// </summary>
    public bool CanAllowAnything(ApiResources api)
    {
        ArgumentNullException.ThrowIfNull(api);
        if (Namespace is null)
        {
            return true;
        }

        foreach (var r in Rule.Resources)
        {
            var slash = r.IndexOf('/', StringComparison.Ordinal);
            var resource = slash < 0 ? r : r[..slash];
            if (resource == "*")
            {
                return true;
            }

            foreach (var group in Rule.ApiGroups)
            {
                if (group == "*" || api.IsNamespaced(group, resource) != false
                    || (RbacRequest.IsNamespaceObject(group, resource) && Rule.Verbs.Any(v => v is not ("create" or "list" or "deletecollection"))))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Whether this grant allows the request, as the authorizer decides.</summary>
    public bool Allows(RbacRequest request) =>
        Namespace is null
            ? Rule.Allows(request)
            : request.IsResourceRequest && request.Namespace.Length > 0 && request.Namespace == Namespace && Rule.Allows(request);
}
