namespace Skjold.Engine.Rbac;

/// <summary>
/// A question as a user writes it ("get secrets -n payments", "get /metrics"), resolved against
/// the resource table: the request the authorizer would see, whether the resource is namespaced,
/// and a warning when the resource is not one Skjold knows.
/// </summary>
public sealed record RbacQuery(RbacRequest Request, bool Namespaced, ApiResource? Resource, string? Warning)
{
    /// <summary>Whether the question named no namespace, so namespaced grants of every namespace count.</summary>
    public bool AnyNamespace { get; init; }
}
