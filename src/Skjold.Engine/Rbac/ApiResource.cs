namespace Skjold.Engine.Rbac;

/// <summary>
/// One resource the API serves: its group, plural name (as RBAC rules write it), kind, scope,
/// subresources and the minor versions that served it. Virtual resources exist only for
/// authorization (impersonation of users and groups, certificate signers).
/// </summary>
public sealed record ApiResource(
    string Group,
    string Resource,
    string? Kind,
    bool Namespaced,
    IReadOnlyList<(string Name, int Since)> Subresources,
    int Since,
    int? Removed,
    bool Virtual)
{
    /// <summary>Whether Kubernetes 1.<paramref name="minor"/> serves it.</summary>
    public bool ServedIn(int minor) => minor >= Since && (Removed is null || minor < Removed);

    public bool HasSubresource(string name, int minor)
    {
        foreach (var (sub, since) in Subresources)
        {
            if ((sub == name || sub == "*") && minor >= since)
            {
                return true;
            }
        }

        return false;
    }

    public string Display => Group.Length == 0 ? Resource : $"{Resource}.{Group}";
}
