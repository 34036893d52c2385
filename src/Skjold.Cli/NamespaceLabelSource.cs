using Skjold.Kubernetes.Watch;

namespace Skjold.Cli;

/// <summary>
/// Namespace labels for detection rules (exec into namespaces labelled as production), from a namespace cache
/// that may be attached after the rules are built (serve's admission cache is made by its host). Detection is
/// synchronous: a label the cache holds is answered at once; a miss starts the cache's own lookup and counts as
/// unknown for this event (the rule then falls back to namespace names).
/// </summary>
internal sealed class NamespaceLabelSource
{
    public INamespaceCache? Cache { get; set; }

    public IReadOnlyDictionary<string, string>? Get(string ns)
    {
        if (Cache is not { } cache)
        {
            return null;
        }

        var lookup = cache.GetLabelsAsync(ns, CancellationToken.None);
        if (lookup.IsCompletedSuccessfully)
        {
            return lookup.Result;
        }

        _ = lookup.AsTask().ContinueWith(t => _ = t.Exception, TaskScheduler.Default); // observe a failed lookup
        return null;
    }

    /// <summary>A source over a namespaces file (a snapshot or a list of Namespace objects), or null without one; throws InvalidOperationException for a bad file.</summary>
    public static NamespaceLabelSource? FromFile(string? path, CliContext context) =>
        path is null ? null : new NamespaceLabelSource { Cache = new FileNamespaceCache(Path.GetFullPath(path, context.WorkingDirectory)) };
}
