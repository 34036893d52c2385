namespace Skjold.Kubernetes.Loading;

/// <summary>Limits that keep hostile or broken input from exhausting time and memory.</summary>
public sealed record LoaderOptions
{
    /// <summary>Largest file (or stdin) accepted, in bytes. Default 32 MiB.</summary>
    public long MaxFileBytes { get; init; } = 32L * 1024 * 1024;

    /// <summary>Deepest nesting of mappings and sequences accepted in one document. Default 128.</summary>
    public int MaxDepth { get; init; } = 128;

    /// <summary>
    /// Most nodes that YAML aliases may add to one document when expanded; a "billion laughs"
    /// document stops here. Default 100,000.
    /// </summary>
    public int MaxAliasNodes { get; init; } = 100_000;

    /// <summary>Largest JSON form of one document, in bytes. Default 64 MiB.</summary>
    public long MaxDocumentBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// The namespace of namespaced objects that name none, as <c>kubectl apply -n</c> would place
    /// them (<c>--namespace</c>). Default "default".
    /// </summary>
    public string DefaultNamespace { get; init; } = "default";

    public static LoaderOptions Default { get; } = new();
}
