namespace Skjold.Server.Namespaces;

/// <summary>Namespace labels for admission decisions. Implementations: the API server (list and watch) or a file.</summary>
public interface INamespaceCache
{
    /// <summary>True once the first full list has been read.</summary>
    bool IsReady { get; }

    /// <summary>The namespace's labels, or null when it is not known.</summary>
    ValueTask<IReadOnlyDictionary<string, string>?> GetLabelsAsync(string name, CancellationToken cancellationToken);

    /// <summary>Records a namespace seen in an admission request (create or update).</summary>
    void Observe(string name, IReadOnlyDictionary<string, string> labels);
}
