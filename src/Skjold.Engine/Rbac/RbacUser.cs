namespace Skjold.Engine.Rbac;

/// <summary>
/// Who a request comes from, as the authenticator hands it to the authorizer: a user name and the
/// groups it is in. Service accounts are users named <c>system:serviceaccount:NS:NAME</c>.
/// </summary>
public sealed record RbacUser(string Name, IReadOnlyList<string> Groups)
{
    public const string Anonymous = "system:anonymous";
    public const string Authenticated = "system:authenticated";
    public const string Unauthenticated = "system:unauthenticated";
    public const string ServiceAccounts = "system:serviceaccounts";
    public const string Masters = "system:masters";
    public const string ServiceAccountPrefix = "system:serviceaccount:";

    /// <summary>Whether the API server lets this user do anything before RBAC is asked (the system:masters group).</summary>
    public bool IsPrivileged
    {
        get
        {
            foreach (var g in Groups)
            {
                if (g == Masters)
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>
    /// The identity of <paramref name="subject"/> with the groups the API server adds: every
    /// authenticated request is in system:authenticated, anonymous requests only in
    /// system:unauthenticated, service accounts also in system:serviceaccounts and
    /// system:serviceaccounts:NS. A group stands for a member who has no other name or group.
    /// </summary>
    public static RbacUser Of(RbacSubject subject, IEnumerable<string>? extraGroups = null)
    {
        var groups = new List<string>();
        string name;
        switch (subject.Kind)
        {
            case RbacSubject.Group:
                name = string.Empty;
                groups.Add(subject.Name);
                break;
            case RbacSubject.ServiceAccount:
                name = subject.UserName;
                groups.Add(ServiceAccounts);
                groups.Add($"{ServiceAccounts}:{subject.Namespace}");
                groups.Add(Authenticated);
                break;
            default:
                name = subject.Name;
                if (TryParseServiceAccount(name, out var ns, out _))
                {
                    groups.Add(ServiceAccounts);
                    groups.Add($"{ServiceAccounts}:{ns}");
                    groups.Add(Authenticated);
                }
                else
                {
                    groups.Add(name == Anonymous ? Unauthenticated : Authenticated);
                }

                break;
        }

        foreach (var g in extraGroups ?? [])
        {
            if (!groups.Contains(g))
            {
                groups.Add(g);
            }
        }

        return new RbacUser(name, groups);
    }

    /// <summary>Splits <c>system:serviceaccount:NS:NAME</c> as the API server does.</summary>
    public static bool TryParseServiceAccount(string userName, out string ns, out string name)
    {
        ns = name = string.Empty;
        if (!userName.StartsWith(ServiceAccountPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = userName.AsSpan(ServiceAccountPrefix.Length);
        var colon = rest.IndexOf(':');
        if (colon <= 0 || colon == rest.Length - 1 || rest[(colon + 1)..].Contains(':'))
        {
            return false;
        }

        ns = rest[..colon].ToString();
        name = rest[(colon + 1)..].ToString();
        return true;
    }
}
