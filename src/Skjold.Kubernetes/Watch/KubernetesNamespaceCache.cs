using System.Text.Json;
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
    private readonly k8s.Kubernetes _client;
    private readonly ILogger<KubernetesNamespaceCache> _logger;
    private readonly TimeProvider _time;
    private readonly NamespaceStore _store = new();
    private volatile bool _ready;

    public KubernetesNamespaceCache(k8s.Kubernetes client, ILogger<KubernetesNamespaceCache> logger, TimeProvider time)
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
        // The watch is read here, one newline-delimited event at a time, through the client's own
        // HTTP pipeline and credentials (the AOT client has no generic watch): ADDED, MODIFIED and
        // DELETED carry a Namespace, BOOKMARK only a resourceVersion, ERROR a Status.
        var query = $"/api/v1/namespaces?watch=true&allowWatchBookmarks=true&timeoutSeconds=300"
            + (resourceVersion is null ? "" : "&resourceVersion=" + Uri.EscapeDataString(resourceVersion));
        using var response = await Live.ClusterReader.SendGetAsync(_client, query, null, ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"watch namespaces: {(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
        }

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false));
        while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            var (type, ns, status) = ParseWatchEvent(line);
            switch (type)
            {
                case "ADDED" or "MODIFIED" when ns?.Metadata?.Name is { } name:
                    _store.SetConfirmed(name, LabelsOf(ns));
                    break;
                case "DELETED" when ns?.Metadata?.Name is { } name:
                    _store.Remove(name);
                    break;
                case "ERROR":
                    throw new KubernetesException(status ?? new V1Status { Code = 500, Message = "watch ERROR event without a status" });
                default:
                    break;
            }

            if (ns?.Metadata?.ResourceVersion is { } version)
            {
                resourceVersion = version;
            }
        }

        return resourceVersion;
    }

    /// <summary>One watch event: its type, and the Namespace or (for ERROR) the Status it carries.</summary>
    internal static (string? Type, V1Namespace? Namespace, V1Status? Status) ParseWatchEvent(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        var type = root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        if (!root.TryGetProperty("object", out var obj) || obj.ValueKind != JsonValueKind.Object)
        {
            return (type, null, null);
        }

        return type == "ERROR"
            ? (type, null, obj.Deserialize(SourceGenerationContext.Default.V1Status))
            : (type, obj.Deserialize(SourceGenerationContext.Default.V1Namespace), null);
    }

    private static bool IsGone(Exception ex) => ex switch
    {
        KubernetesException k => k.Status?.Code == 410,
        HttpOperationException h => h.Response.StatusCode == System.Net.HttpStatusCode.Gone,
        HttpRequestException r when r.StatusCode == System.Net.HttpStatusCode.Gone => true,
        _ => ex.InnerException is not null && IsGone(ex.InnerException),
    };

    private static IReadOnlyDictionary<string, string> LabelsOf(V1Namespace ns) =>
        ns.Metadata?.Labels is { } labels ? new Dictionary<string, string>(labels, StringComparer.Ordinal) : new Dictionary<string, string>();
}
