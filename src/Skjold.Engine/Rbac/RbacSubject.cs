namespace Skjold.Engine.Rbac;

/// <summary>A user, group or service account, as RBAC names them.</summary>
public sealed record RbacSubject(string Kind, string Name, string? Namespace = null)
{
    public const string User = "User";
    public const string Group = "Group";
    public const string ServiceAccount = "ServiceAccount";

    /// <summary>The username a service account authenticates as.</summary>
    public string UserName => Kind == ServiceAccount ? $"{RbacUser.ServiceAccountPrefix}{Namespace}:{Name}" : Name;

    /// <summary>
    /// Whether this is one of the control plane's own identities, which hold broad rights by design:
    /// the subjects of the API server's bootstrap bindings (system:masters, system:nodes, the
    /// controller manager's and scheduler's users, the kube-system controller service accounts, ...)
    /// and the few others listed in the bootstrap data. Decided by exact identity, never by a
    /// "system:" prefix: system:anonymous, system:unauthenticated, system:authenticated and
    /// system:serviceaccounts are everyone, not the platform.
    /// </summary>
    public bool IsPlatform => BootstrapPolicy.IsPlatformIdentity(this);

    /// <summary>Whether the subject stands for requests nobody authenticated.</summary>
    public bool IsAnonymous => (Kind == User && Name == RbacUser.Anonymous) || (Kind == Group && Name == RbacUser.Unauthenticated);

    public override string ToString() => Kind switch
    {
        ServiceAccount => $"ServiceAccount {Namespace}/{Name}",
        _ => $"{Kind} {Name}",
    };

    /// <summary>
    /// The subject a binding names: a User called <c>system:serviceaccount:NS:NAME</c> is that
    /// service account (the authorizer compares user names); a ServiceAccount without a namespace
    /// is in the binding's (and matches nothing in a ClusterRoleBinding: null).
    /// </summary>
    public static RbacSubject? FromBinding(string kind, string name, string? ns, string? bindingNamespace)
    {
        switch (kind)
        {
            case ServiceAccount:
                var saNs = string.IsNullOrEmpty(ns) ? bindingNamespace : ns;
                return string.IsNullOrEmpty(saNs) ? null : new RbacSubject(ServiceAccount, name, saNs);
            case User when RbacUser.TryParseServiceAccount(name, out var userNs, out var saName):
                return new RbacSubject(ServiceAccount, saName, userNs);
            case User or Group:
                return new RbacSubject(kind, name);
            default:
                return null; // unknown kinds match no request
        }
    }

    /// <summary>
    /// Parses <c>user:alice</c>, <c>group:dev</c>, <c>sa:ns/name</c>, <c>serviceaccount:ns/name</c>
    /// or <c>system:serviceaccount:ns:name</c>; a bare name is a user.
    /// </summary>
    public static RbacSubject Parse(string text)
    {
        var t = text.Trim();
        if (RbacUser.TryParseServiceAccount(t, out var ns0, out var name0))
        {
            return new RbacSubject(ServiceAccount, name0, ns0);
        }

        var colon = t.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0)
        {
            var kind = t[..colon].ToLowerInvariant();
            var rest = t[(colon + 1)..];
            switch (kind)
            {
                case "user" or "u":
                    return RbacUser.TryParseServiceAccount(rest, out var ns1, out var name1) ? new RbacSubject(ServiceAccount, name1, ns1) : new RbacSubject(User, rest);
                case "group" or "g":
                    return new RbacSubject(Group, rest);
                case "sa" or "serviceaccount":
                    var slash = rest.IndexOf('/', StringComparison.Ordinal);
                    if (slash > 0 && slash < rest.Length - 1)
                    {
                        return new RbacSubject(ServiceAccount, rest[(slash + 1)..], rest[..slash]);
                    }

                    throw new FormatException($"'{text}': a service account is sa:NAMESPACE/NAME");
                default:
                    break;
            }
        }

        return new RbacSubject(User, t);
    }
}
