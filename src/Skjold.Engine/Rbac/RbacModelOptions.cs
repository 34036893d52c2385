namespace Skjold.Engine.Rbac;

/// <summary>How an RBAC model reads its input.</summary>
public sealed record RbacModelOptions
{
    /// <summary>Add the bootstrap policy's roles and bindings that the input lacks (as the API server has them). Default true.</summary>
    public bool IncludeBootstrap { get; init; } = true;

    /// <summary>Where namespaced objects without metadata.namespace live (kubectl apply -n). Default "default".</summary>
    public string DefaultNamespace { get; init; } = "default";

    /// <summary>The Kubernetes minor the input describes, when the input does not record it (see <see cref="Model.KubernetesVersion"/>).</summary>
    public int? KubeMinor { get; init; }

    /// <summary>The time used to pick the oldest supported minor when neither the input nor <see cref="KubeMinor"/> says.</summary>
    public DateTimeOffset Now { get; init; } = DateTimeOffset.UtcNow;

    public static RbacModelOptions Default { get; } = new();
}
