using Skjold.Engine.Model;

namespace Skjold.Engine.Rbac;

/// <summary>
/// A permission a subject holds: a rule of a role, bound to the subject by a binding, valid in one
/// namespace (<see cref="Namespace"/>) or cluster-wide (null).
/// </summary>
public sealed record RbacGrant(RbacSubject Subject, RbacRule Rule, string? Namespace, Resource Binding, string RoleKind, string RoleName)
{
    public string Scope => Namespace is null ? "cluster-wide" : $"in namespace {Namespace}";

    public string Via => $"{Binding.Ref.Kind} {(Binding.Ref.Namespace is null ? string.Empty : Binding.Ref.Namespace + "/")}{Binding.Ref.Name} -> {RoleKind} {RoleName}";
}
