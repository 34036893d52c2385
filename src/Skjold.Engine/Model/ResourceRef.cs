namespace Skjold.Engine.Model;

/// <summary>Identifies a Kubernetes object: apiVersion, kind, namespace (null when cluster-scoped or unset) and name.</summary>
public sealed record ResourceRef(string ApiVersion, string Kind, string? Namespace, string Name)
{
    public override string ToString() => Namespace is null ? $"{Kind}/{Name}" : $"{Kind}/{Namespace}/{Name}";
}
