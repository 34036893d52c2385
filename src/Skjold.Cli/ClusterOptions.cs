using System.CommandLine;
using Skjold.Kubernetes.Live;
using Skjold.Kubernetes.Loading;

namespace Skjold.Cli;

/// <summary>
/// Cluster access as kubectl does it (<see cref="KubeconfigLoader"/>): --kubeconfig, else
/// $KUBECONFIG (merged), else ~/.kube/config, else in-cluster; --context, and --kube-cluster and
/// --kube-user for kubectl's --cluster and --user (Skjold's --cluster means "read the live cluster"
/// and audit query's --user filters by user). Reading a cluster into resources.
/// </summary>
internal sealed class ClusterOptions
{
    public Option<string?> Kubeconfig { get; } = new("--kubeconfig") { Description = "kubeconfig file (default: $KUBECONFIG, a ':'-separated list merged as kubectl does, else ~/.kube/config, else the in-cluster service account)" };

    public Option<string?> Context { get; } = new("--context") { Description = "kubeconfig context to use (default: its current-context)" };

    public Option<string?> KubeCluster { get; } = new("--kube-cluster") { Description = "kubeconfig cluster to use instead of the context's (kubectl's --cluster)" };

    public Option<string?> KubeUser { get; } = new("--kube-user") { Description = "kubeconfig user to use instead of the context's (kubectl's --user)" };

    public void AddTo(Command c)
    {
        c.Options.Add(Kubeconfig);
        c.Options.Add(Context);
        c.Options.Add(KubeCluster);
        c.Options.Add(KubeUser);
    }

    /// <summary>The configuration kubectl would use with these flags; throws <see cref="KubeconfigException"/> with a message saying what was looked at.</summary>
    public LoadedKubeconfig Load(ParseResult parse, CliContext context, string? ns = null) =>
        new KubeconfigLoader(context.Environment).Load(new KubeconfigRequest
        {
            Kubeconfig = parse.GetValue(Kubeconfig) is { } path ? Path.GetFullPath(path, context.WorkingDirectory) : null,
            Context = parse.GetValue(Context),
            Cluster = parse.GetValue(KubeCluster),
            User = parse.GetValue(KubeUser),
            Namespace = ns,
        });

    public k8s.Kubernetes Client(ParseResult parse, CliContext context) => new(Load(parse, context).Configuration);

    /// <summary>A client for the cluster, or null with "error: no Kubernetes API to <paramref name="purpose"/>: why" on stderr.</summary>
    public async Task<k8s.Kubernetes?> TryClientAsync(ParseResult parse, CliContext context, string purpose)
    {
        try
        {
            return Client(parse, context);
        }
        catch (Exception e) when (IsClusterError(e))
        {
            await context.Error.WriteLineAsync($"error: no Kubernetes API to {purpose}: {e.Message}").ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>
    /// Reads the cluster as a snapshot in memory and loads it; progress goes to stderr. The whole
    /// cluster is read (cluster-scoped checks need it); with <paramref name="onlyNamespace"/>,
    /// namespaced objects of other namespaces are then left out.
    /// </summary>
    public async Task<(LoadResult Loaded, SnapshotSummary Summary, LoadedKubeconfig Config)> ReadAsync(ParseResult parse, CliContext context, string? onlyNamespace, CancellationToken ct)
    {
        var config = Load(parse, context);
        if (GlobalOptions.Verbose(parse))
        {
            context.Error.WriteLine($"cluster: {config.Configuration.Host} (context {config.ContextName ?? "none"}, from {config.Source}; namespace {config.Namespace})");
        }

        using var client = new k8s.Kubernetes(config.Configuration);
        var line = ProgressLine.For(parse, context);
        var read = (await new LiveClusterSource(client).ReadAsync(Progress(line), ct).ConfigureAwait(false)).InNamespace(onlyNamespace);
        var summary = read.Summary;
        line.Done($"read {summary.Counts.Values.Sum():N0} objects");
        if (summary.Missing.Count > 0)
        {
            context.Error.WriteLine($"warning: could not read {string.Join(", ", summary.Missing)}; findings that need them are incomplete");
        }

        return (new LoadResult(read.Resources, read.Diagnostics, 1, 0), summary, config);
    }

    /// <summary>Like <see cref="ReadAsync"/>, but a failure talking to the cluster is written as an error and gives null.</summary>
    public async Task<(LoadResult Loaded, LoadedKubeconfig Config)?> TryReadAsync(ParseResult parse, CliContext context, string? onlyNamespace, CancellationToken ct)
    {
        try
        {
            var (loaded, _, config) = await ReadAsync(parse, context, onlyNamespace, ct).ConfigureAwait(false);
            return (loaded, config);
        }
        catch (Exception ex) when (IsClusterError(ex))
        {
            await context.Error.WriteLineAsync($"error: cannot read the cluster: {ex.Message}").ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>Failures talking to the cluster that deserve a message rather than a stack trace.</summary>
    public static bool IsClusterError(Exception ex) =>
        ex is KubeconfigException or k8s.Exceptions.KubeConfigException or HttpRequestException or IOException or UnauthorizedAccessException or System.Security.Authentication.AuthenticationException
            or TaskCanceledException or System.Text.Json.JsonException;

    public static IProgress<(string Kind, int Count)> Progress(ProgressLine line) =>
        line.Of<(string Kind, int Count)>(p => $"reading {p.Kind,-32} {p.Count,8:N0}");

    /// <summary>
    /// What a cluster-level command reads: the live cluster when <paramref name="live"/>, else the
    /// PATHs (snapshots, manifests, "-" for stdin). Null after a one-line error: both given, or
    /// neither when <paramref name="missing"/> (the error for that) is given; with neither and no
    /// <paramref name="missing"/>, no resources. A live read keeps the namespace of -n unless
    /// <paramref name="wholeCluster"/>; files may hold no object with --allow-empty or <paramref name="allowEmpty"/>.
    /// </summary>
    public async Task<ClusterInput?> ReadInputAsync(ParseResult parse, CliContext context, bool live, IReadOnlyList<string> paths, InputScope scope, string? missing,
        CancellationToken ct, bool allowEmpty = false, bool wholeCluster = false)
    {
        if (live && paths.Count > 0)
        {
            await context.Error.WriteLineAsync("error: give either --cluster or paths, not both").ConfigureAwait(false);
            return null;
        }

        if (live)
        {
            return await TryReadAsync(parse, context, wholeCluster ? null : scope.Given(parse), ct).ConfigureAwait(false) is { } read
                ? new ClusterInput(read.Loaded.Resources, false, read.Config)
                : null;
        }

        if (paths.Count == 0)
        {
            if (missing is not null)
            {
                await context.Error.WriteLineAsync($"error: {missing}").ConfigureAwait(false);
                return null;
            }

            return new ClusterInput([], false, null);
        }

        return InputFiles.Load(paths, context, scope.DefaultNamespace(parse), allowEmpty || parse.GetValue(scope.AllowEmpty)) is { } loaded
            ? new ClusterInput(loaded.Resources, loaded.Incomplete, null)
            : null;
    }
}

/// <summary>The resources a cluster-level command read, whether some input could not be read, and the kubeconfig of a live read.</summary>
internal sealed record ClusterInput(IReadOnlyList<Skjold.Engine.Model.Resource> Resources, bool Incomplete, LoadedKubeconfig? Config);
