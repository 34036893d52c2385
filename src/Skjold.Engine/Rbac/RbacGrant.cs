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

    /// <summary>Whether this grant allows the request, as the authorizer decides.</summary>
    public bool Allows(RbacRequest request) =>
        Namespace is null
            ? Rule.Allows(request)
            : request.IsResourceRequest && request.Namespace.Length > 0 && request.Namespace == Namespace && Rule.Allows(request);
}
