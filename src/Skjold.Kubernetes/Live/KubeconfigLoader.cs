using k8s;
using k8s.KubeConfigModels;

namespace Skjold.Kubernetes.Live;

/// <summary>What the user asked for on the command line (kubectl's flags); null means "not given".</summary>
public sealed record KubeconfigRequest
{
    /// <summary>--kubeconfig: this file only (it must exist).</summary>
    public string? Kubeconfig { get; init; }

    /// <summary>--context: the context to use instead of the current one.</summary>
    public string? Context { get; init; }

    /// <summary>--cluster: the kubeconfig cluster to use instead of the context's.</summary>
    public string? Cluster { get; init; }

    /// <summary>--user: the kubeconfig user to use instead of the context's.</summary>
    public string? User { get; init; }

    /// <summary>-n/--namespace: the namespace instead of the context's.</summary>
    public string? Namespace { get; init; }
}

/// <summary>The client configuration chosen, and where it came from (for messages and <c>--verbose</c>).</summary>
public sealed record LoadedKubeconfig(KubernetesClientConfiguration Configuration, string Source, string? ContextName, string Namespace, bool NamespaceFromFlag);

/// <summary>Thrown when no usable cluster configuration exists; the message says what was looked at.</summary>
public sealed class KubeconfigException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// kubectl's loading rules, for every host that reads a cluster: <c>--kubeconfig</c> (that file
/// only), else <c>$KUBECONFIG</c> (a list of paths separated by ':', merged: the first file to
/// name a cluster, user or context wins, and the first file to set current-context decides it;
/// files that do not exist are skipped), else <c>~/.kube/config</c>, else the in-cluster service
/// account. Then <c>--context</c> picks a context, <c>--cluster</c> and <c>--user</c> override
/// its parts, and the namespace is <c>--namespace</c>, else the context's, else <c>default</c>.
/// </summary>
public sealed class KubeconfigLoader
{
    private readonly Func<string, string?> _environment;
    private readonly string _home;
    private readonly Func<bool> _inCluster;

    /// <param name="environment">Reads an environment variable (the process's by default; tests pass their own).</param>
    /// <param name="home">The user's home directory (default: $HOME).</param>
    /// <param name="inCluster">Whether the in-cluster service account is available.</param>
    public KubeconfigLoader(Func<string, string?>? environment = null, string? home = null, Func<bool>? inCluster = null)
    {
        _environment = environment ?? Environment.GetEnvironmentVariable;
        _home = home ?? _environment("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        _inCluster = inCluster ?? (() => _environment("KUBERNETES_SERVICE_HOST") is { Length: > 0 } && KubernetesClientConfiguration.IsInCluster());
    }

    /// <summary>The kubeconfig files kubectl would read, in order (none: in-cluster or nothing).</summary>
    public IReadOnlyList<string> Files(KubeconfigRequest request, out string source)
    {
        if (request.Kubeconfig is { } explicitPath)
        {
            source = $"--kubeconfig {explicitPath}";
            return File.Exists(explicitPath) ? [explicitPath] : throw new KubeconfigException($"the kubeconfig file {explicitPath} (from --kubeconfig) does not exist");
        }

        if (_environment("KUBECONFIG") is { Length: > 0 } list)
        {
            var paths = list.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            source = $"$KUBECONFIG ({list})";
            var present = paths.Where(File.Exists).Distinct(StringComparer.Ordinal).ToList();
            return present.Count > 0 ? present : throw new KubeconfigException($"none of the files in $KUBECONFIG exists ({list})");
        }

        var home = Path.Combine(_home, ".kube", "config");
        source = home;
        return File.Exists(home) ? [home] : [];
    }

    public LoadedKubeconfig Load(KubeconfigRequest request)
    {
        var files = Files(request, out var source);
        if (files.Count == 0)
        {
            if (_inCluster())
            {
                if (request.Context is not null || request.Cluster is not null || request.User is not null)
                {
                    throw new KubeconfigException("--context, --cluster and --user need a kubeconfig; none was found and only the in-cluster service account is available");
                }

                var inCluster = KubernetesClientConfiguration.InClusterConfig();
                var ns = request.Namespace ?? inCluster.Namespace ?? "default";
                inCluster.Namespace = ns;
                return new LoadedKubeconfig(inCluster, "in-cluster service account", null, ns, request.Namespace is not null);
            }

            throw new KubeconfigException($"no cluster configuration: --kubeconfig was not given, $KUBECONFIG is not set, {source} does not exist and this is not a pod with a service account");
        }

        K8SConfiguration config;
        try
        {
            config = Merge(files.Select(f => KubernetesClientConfiguration.LoadKubeConfig(new FileInfo(f), useRelativePaths: true)).ToList());
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new KubeconfigException($"cannot read the kubeconfig ({string.Join(", ", files)}): {ex.Message.ReplaceLineEndings(" ")}", ex);
        }

        var contextName = request.Context ?? config.CurrentContext;
        var context = contextName is null ? null : config.Contexts?.FirstOrDefault(c => c.Name == contextName);
        if (request.Context is not null && context is null)
        {
            throw new KubeconfigException($"context \"{request.Context}\" is not in the kubeconfig ({source}); it has: {Names(config.Contexts?.Select(c => c.Name))}");
        }

        if (context is null && (request.Cluster is null || request.User is null))
        {
            throw new KubeconfigException(contextName is null
                ? $"the kubeconfig ({source}) sets no current-context; pass --context (it has: {Names(config.Contexts?.Select(c => c.Name))})"
                : $"the current context \"{contextName}\" is not defined in the kubeconfig ({source})");
        }

        if (request.Cluster is { } cluster && config.Clusters?.Any(c => c.Name == cluster) != true)
        {
            throw new KubeconfigException($"cluster \"{cluster}\" is not in the kubeconfig ({source}); it has: {Names(config.Clusters?.Select(c => c.Name))}");
        }

        if (request.User is { } user && config.Users?.Any(u => u.Name == user) != true)
        {
            throw new KubeconfigException($"user \"{user}\" is not in the kubeconfig ({source}); it has: {Names(config.Users?.Select(u => u.Name))}");
        }

        // The overrides become a context of their own, so the client library resolves them as it
        // resolves any context (certificates, exec plugins, tokens).
        var details = context?.ContextDetails;
        var effective = new Context
        {
            Name = "skjold:effective",
            ContextDetails = new ContextDetails
            {
                Cluster = request.Cluster ?? details?.Cluster,
                User = request.User ?? details?.User,
                Namespace = request.Namespace ?? details?.Namespace,
            },
        };
        config.Contexts = [.. config.Contexts ?? [], effective];
        KubernetesClientConfiguration built;
        try
        {
            built = KubernetesClientConfiguration.BuildConfigFromConfigObject(config, effective.Name);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new KubeconfigException($"the kubeconfig ({source}) cannot be used with context \"{contextName}\": {ex.Message.ReplaceLineEndings(" ")}", ex);
        }

        var nsName = request.Namespace ?? details?.Namespace ?? "default";
        built.Namespace = nsName;
        return new LoadedKubeconfig(built, source, contextName, nsName, request.Namespace is not null);
    }

    /// <summary>kubectl's merge: the first file to name a cluster, user or context wins; the first current-context set wins.</summary>
    private static K8SConfiguration Merge(List<K8SConfiguration> configs)
    {
        var merged = new K8SConfiguration
        {
            ApiVersion = "v1",
            Kind = "Config",
            CurrentContext = configs.Select(c => c.CurrentContext).FirstOrDefault(c => !string.IsNullOrEmpty(c)),
            Clusters = First(configs.SelectMany(c => c.Clusters ?? []), c => c.Name),
            Users = First(configs.SelectMany(c => c.Users ?? []), u => u.Name),
            Contexts = First(configs.SelectMany(c => c.Contexts ?? []), c => c.Name),
        };
        return merged;
    }

    private static List<T> First<T>(IEnumerable<T> items, Func<T, string> name)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return [.. items.Where(i => seen.Add(name(i)))];
    }

    private static string Names(IEnumerable<string>? names) => names?.Any() == true ? string.Join(", ", names) : "none";
}
