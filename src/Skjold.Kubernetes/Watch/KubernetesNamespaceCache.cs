using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Skjold.Kubernetes.Watch;

/// <summary>
/// Namespace labels from the Kubernetes API: list, then watch from the list's resourceVersion;
/// on 410 Gone (the version expired) list again; reconnects back off exponentially (1 s to 30 s,
/// with jitter) so a flapping API server is not hammered. Ready after the first list. A namespace
/// missing from the cache is fetched once directly (it may be seconds old).
/// </summary>
public sealed partial class KubernetesNamespaceCache : BackgroundService, INamespaceCache
{
    private readonly IKubernetes _client;
    private readonly ILogger<KubernetesNamespaceCache> _logger;
    private readonly TimeProvider _time;
    private readonly NamespaceStore _store = new();
    private volatile bool _ready;

    public KubernetesNamespaceCache(IKubernetes client, ILogger<KubernetesNamespaceCache> logger, TimeProvider time)
    {
        _client = client;
        _logger = logger;
        _time = time;
    }

    public bool IsReady => _ready;

    /// <summary>How many times the cache listed all namespaces (for tests and metrics).</summary>
    public int ListCount { get; private set; }

    public async ValueTask<IReadOnlyDictionary<string, string>?> GetLabelsAsync(string name, CancellationToken cancellationToken)
    {
        if (_store.TryGetConfirmed(name, out var labels))
        {
            return labels;
        }

        // Not known, or known only from an admission request that may have been refused: ask the
        // API. A namespace the API does not have gets no labels (the configured defaults apply).
        try
        {
            var ns = await _client.CoreV1.ReadNamespaceAsync(name, cancellationToken: cancellationToken).ConfigureAwait(false);
            var read = LabelsOf(ns);
            _store.SetConfirmed(name, read);
            return read;
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public void ObserveCreate(string name, IReadOnlyDictionary<string, string> labels) => _store.SetProvisional(name, labels);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromSeconds(1);
        string? resourceVersion = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (resourceVersion is null)
                {
                    resourceVersion = await ListAsync(stoppingToken).ConfigureAwait(false);
                }

                var started = _time.GetUtcNow();
                resourceVersion = await WatchAsync(resourceVersion, stoppingToken).ConfigureAwait(false);
                if (_time.GetUtcNow() - started > TimeSpan.FromSeconds(30))
                {
                    backoff = TimeSpan.FromSeconds(1);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (IsGone(ex))
            {
                KubernetesLog.NamespaceWatchExpired(_logger, resourceVersion);
                resourceVersion = null;
                continue;
            }
            catch (Exception ex)
            {
                KubernetesLog.NamespaceWatchFailed(_logger, ex.GetType().Name, ex.Message, backoff.TotalSeconds);
            }

            var jitter = TimeSpan.FromMilliseconds(Random.Shared.Next(0, (int)(backoff.TotalMilliseconds / 4) + 1));
            try
            {
                await Task.Delay(backoff + jitter, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            backoff = TimeSpan.FromSeconds(Math.Min(30, backoff.TotalSeconds * 2));
        }
    }

    private async Task<string?> ListAsync(CancellationToken ct)
    {
        var all = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        string? continueToken = null;
        string? version = null;
        do
        {
            var page = await _client.CoreV1.ListNamespaceAsync(continueParameter: continueToken, limit: 500, cancellationToken: ct).ConfigureAwait(false);
            foreach (var ns in page.Items)
            {
                all[ns.Metadata.Name] = LabelsOf(ns);
            }

            continueToken = page.Metadata?.ContinueProperty;
            version = page.Metadata?.ResourceVersion;
        }
        while (!string.IsNullOrEmpty(continueToken));

        _store.ReplaceAll(all);
        ListCount++;
        _ready = true;
        KubernetesLog.NamespacesListed(_logger, all.Count, version);
        return version;
    }

    private async Task<string?> WatchAsync(string? resourceVersion, CancellationToken ct)
    {
        // The client reports an ERROR event (such as 410 Gone) through onError and then ends the stream.
        Exception? watchError = null;
        var events = _client.CoreV1.WatchListNamespaceAsync(
            resourceVersion: resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 300, onError: e => watchError ??= e, cancellationToken: ct);
        await foreach (var (type, ns) in events.ConfigureAwait(false))
        {
            var version = ns?.Metadata?.ResourceVersion;
            switch (type)
            {
                case WatchEventType.Added or WatchEventType.Modified:
                    _store.SetConfirmed(ns!.Metadata.Name, LabelsOf(ns));
                    break;
                case WatchEventType.Deleted:
                    _store.Remove(ns!.Metadata.Name);
                    break;
                case WatchEventType.Error:
                    throw new KubernetesException(new V1Status { Code = 410, Reason = "Expired" });
                default:
                    break;
            }

            if (version is not null)
            {
                resourceVersion = version;
            }
        }

        if (watchError is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(watchError).Throw();
        }

        return resourceVersion;
    }

    private static bool IsGone(Exception ex) => ex switch
    {
        KubernetesException k => k.Status?.Code == 410,
        HttpOperationException h => h.Response.StatusCode == System.Net.HttpStatusCode.Gone,
        _ => ex.InnerException is not null && IsGone(ex.InnerException),
    };

    private static IReadOnlyDictionary<string, string> LabelsOf(V1Namespace ns) =>
        ns.Metadata?.Labels is { } labels ? new Dictionary<string, string>(labels, StringComparer.Ordinal) : new Dictionary<string, string>();
}
