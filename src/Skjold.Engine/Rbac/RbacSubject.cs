namespace Skjold.Engine.Rbac;

/// <summary>A user, group or service account, as RBAC names them.</summary>
public sealed record RbacSubject(string Kind, string Name, string? Namespace = null)
{
    public const string User = "User";
    public const string Group = "Group";
    public const string ServiceAccount = "ServiceAccount";

    /// <summary>The username a service account authenticates as.</summary>
    public string UserName => Kind == ServiceAccount ? $"system:serviceaccount:{Namespace}:{Name}" : Name;

    /// <summary>
    /// Whether the platform itself runs as this subject and holds broad rights by design:
    /// system: users and groups (except the catch-all groups) and kube-system service accounts.
    /// </summary>
    public bool IsPlatform => Kind switch
    {
        Group => Name.StartsWith("system:", StringComparison.Ordinal)
            && Name is not ("system:authenticated" or "system:unauthenticated" or "system:serviceaccounts")
            && !Name.StartsWith("system:serviceaccounts:", StringComparison.Ordinal),
        User => Name.StartsWith("system:", StringComparison.Ordinal),
        ServiceAccount => Namespace is "kube-system",
        _ => false,
    };

    public override string ToString() => Kind switch
    {
        ServiceAccount => $"ServiceAccount {Namespace}/{Name}",
        _ => $"{Kind} {Name}",
    };

    /// <summary>
    /// Parses <c>user:alice</c>, <c>group:dev</c>, <c>sa:ns/name</c>, <c>serviceaccount:ns/name</c>
    /// or <c>system:serviceaccount:ns:name</c>; a bare name is a user.
    /// </summary>
    public static RbacSubject Parse(string text)
    {
        var t = text.Trim();
        if (t.StartsWith("system:serviceaccount:", StringComparison.Ordinal))
        {
            var parts = t.Split(':');
            if (parts.Length == 4)
            {
                return new RbacSubject(ServiceAccount, parts[3], parts[2]);
            }
        }

        var colon = t.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0)
        {
            var kind = t[..colon].ToLowerInvariant();
            var rest = t[(colon + 1)..];
            switch (kind)
            {
                case "user" or "u":
                    return new RbacSubject(User, rest);
                case "group" or "g":
                    return new RbacSubject(Group, rest);
                case "sa" or "serviceaccount":
                    var slash = rest.IndexOf('/', StringComparison.Ordinal);
                    if (slash > 0)
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

    /// <summary>The groups this subject belongs to implicitly (service accounts and every authenticated subject).</summary>
    public IEnumerable<RbacSubject> ImplicitGroups()
    {
        if (Kind == Group)
        {
            yield break;
        }

        yield return new RbacSubject(Group, "system:authenticated");
        if (Kind == ServiceAccount)
        {
            yield return new RbacSubject(Group, "system:serviceaccounts");
            yield return new RbacSubject(Group, $"system:serviceaccounts:{Namespace}");
        }
    }
}
