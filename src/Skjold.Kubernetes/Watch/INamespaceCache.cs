namespace Skjold.Kubernetes.Watch;

/// <summary>Namespace labels for admission decisions. Implementations: the API server (list and watch) or a file.</summary>
public interface INamespaceCache
{
    /// <summary>True once the first full list has been read.</summary>
    bool IsReady { get; }

    /// <summary>The namespace's labels, or null when it is not known.</summary>
    ValueTask<IReadOnlyDictionary<string, string>?> GetLabelsAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Records a namespace seen in an admission CREATE request. It is kept only when the namespace is
    /// not known yet, and only provisionally: the request may still be refused, so the API (list,
    /// watch, or a direct read) decides. Requests for namespaces already known change nothing.
    /// </summary>
    void ObserveCreate(string name, IReadOnlyDictionary<string, string> labels);
}
