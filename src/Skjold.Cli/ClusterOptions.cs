using System.CommandLine;
using k8s;
using Skjold.Engine.Model;
using Skjold.Kubernetes.Live;
using Skjold.Kubernetes.Loading;

namespace Skjold.Cli;

/// <summary>--kubeconfig and --context, and reading a live cluster into resources.</summary>
internal sealed class ClusterOptions
{
    public Option<string?> Kubeconfig { get; } = new("--kubeconfig") { Description = "kubeconfig file (default: in-cluster, else $KUBECONFIG or ~/.kube/config)" };

    public Option<string?> Context { get; } = new("--context") { Description = "kubeconfig context to use" };

    public void AddTo(Command c)
    {
        c.Options.Add(Kubeconfig);
        c.Options.Add(Context);
    }

    public k8s.Kubernetes Client(ParseResult parse)
    {
        var path = parse.GetValue(Kubeconfig);
        var config = path is null && KubernetesClientConfiguration.IsInCluster()
            ? KubernetesClientConfiguration.InClusterConfig()
            : KubernetesClientConfiguration.BuildConfigFromConfigFile(path, parse.GetValue(Context));
        return new k8s.Kubernetes(config);
    }

    /// <summary>Reads the cluster as a snapshot in memory and loads it; progress goes to stderr.</summary>
    public async Task<(LoadResult Loaded, SnapshotSummary Summary)> ReadAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        using var client = Client(parse);
        using var buffer = new MemoryStream();
        var summary = await new ClusterReader(client).WriteSnapshotAsync(buffer, context.Time, Progress(context), ct).ConfigureAwait(false);
        context.Error.WriteLine();
        if (summary.Missing.Count > 0)
        {
            context.Error.WriteLine($"warning: could not read {string.Join(", ", summary.Missing)}; findings that need them are incomplete");
        }

        var resources = new List<Resource>();
        var diagnostics = new List<Diagnostic>();
        new ManifestLoader(new LoaderOptions { MaxFileBytes = long.MaxValue, MaxDocumentBytes = long.MaxValue }).LoadBytes("cluster", buffer.ToArray(), resources, diagnostics);
        return (new LoadResult(resources, diagnostics, 1, buffer.Length), summary);
    }

    /// <summary>Like <see cref="ReadAsync"/>, but a failure talking to the cluster is written as an error and gives null.</summary>
    public async Task<LoadResult?> TryReadAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        try
        {
            return (await ReadAsync(parse, context, ct).ConfigureAwait(false)).Loaded;
        }
        catch (Exception ex) when (IsClusterError(ex))
        {
            await context.Error.WriteLineAsync($"error: cannot read the cluster: {ex.Message}").ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>Failures talking to the cluster that deserve a message rather than a stack trace.</summary>
    public static bool IsClusterError(Exception ex) =>
        ex is k8s.Exceptions.KubeConfigException or HttpRequestException or IOException or UnauthorizedAccessException or System.Security.Authentication.AuthenticationException
            or TaskCanceledException or System.Text.Json.JsonException;

    public static IProgress<(string Kind, int Count)> Progress(CliContext context) =>
        new SyncProgress<(string Kind, int Count)>(p => context.Error.Write($"\rreading {p.Kind,-32} {p.Count,8:N0}"));

    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
