using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Skjold.Kubernetes.Live;

/// <summary><see cref="IClusterClient"/> over the Kubernetes API with the credentials of a kubeconfig (KubernetesClient's HTTP client and exec).</summary>
public sealed class KubernetesClusterClient(k8s.Kubernetes client) : IClusterClient
{
    public async Task<byte[]> GetAsync(string pathAndQuery, CancellationToken cancellationToken)
    {
        var uri = new Uri(client.BaseUri, pathAndQuery);
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (client.Credentials is { } credentials)
        {
            await credentials.ProcessHttpRequestAsync(request, cancellationToken).ConfigureAwait(false);
        }

        using var response = await client.HttpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new ClusterRequestException((int)response.StatusCode, null, $"GET {pathAndQuery}: {(int)response.StatusCode} {response.ReasonPhrase}");
        }

        return bytes;
    }

    public async Task<JsonDocument> CreateAsync(ObjectPath collection, JsonElement body, bool dryRun, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(collection);
        using var content = new StringContent(body.GetRawText(), Encoding.UTF8, "application/json");
        return (await SendAsync(HttpMethod.Post, collection with { Name = null }, content, dryRun, cancellationToken).ConfigureAwait(false))!;
    }

    public async Task<JsonDocument> PatchAsync(ObjectPath target, string patch, PatchKind kind, bool dryRun, CancellationToken cancellationToken)
    {
        var type = kind switch
        {
            PatchKind.Json => "application/json-patch+json",
            PatchKind.StrategicMerge => "application/strategic-merge-patch+json",
            _ => "application/merge-patch+json",
        };
        using var content = new StringContent(patch, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(type);
        return (await SendAsync(HttpMethod.Patch, target, content, dryRun, cancellationToken).ConfigureAwait(false))!;
    }

    public async Task DeleteAsync(ObjectPath target, bool dryRun, CancellationToken cancellationToken) =>
        (await SendAsync(HttpMethod.Delete, target, null, dryRun, cancellationToken).ConfigureAwait(false))?.Dispose();

    public async Task<bool> EvictAsync(string @namespace, string pod, bool dryRun, CancellationToken cancellationToken)
    {
        var eviction = new Dictionary<string, object>
        {
            ["apiVersion"] = "policy/v1",
            ["kind"] = "Eviction",
            ["metadata"] = new Dictionary<string, string> { ["name"] = pod, ["namespace"] = @namespace },
        };
        if (dryRun)
        {
            eviction["deleteOptions"] = new Dictionary<string, object> { ["dryRun"] = new[] { "All" } };
        }

        using var content = new StringContent(JsonSerializer.Serialize(eviction, LiveJsonContext.Default.DictionaryStringObject), Encoding.UTF8, "application/json");
        try
        {
            (await SendAsync(HttpMethod.Post, ObjectPath.Pods(@namespace, pod) with { Subresource = "eviction" }, content, dryRun, cancellationToken).ConfigureAwait(false))?.Dispose();
            return true;
        }
        catch (ClusterRequestException ex) when (ex.StatusCode == 429)
        {
            return false; // a PodDisruptionBudget does not allow the disruption now
        }
    }

    public async Task<ExecResult> ExecAsync(string @namespace, string pod, string container, IReadOnlyList<string> command, long maxOutputBytes, CancellationToken cancellationToken)
    {
        var stdout = new BoundedBuffer(maxOutputBytes);
        var stderr = new BoundedBuffer(maxOutputBytes);
        var exit = await client.NamespacedPodExecAsync(pod, @namespace, container, command, false, async (stdIn, stdOut, stdErr) =>
        {
            await Task.WhenAll(stdout.FillAsync(stdOut, cancellationToken), stderr.FillAsync(stdErr, cancellationToken)).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        return new ExecResult(exit, stdout.ToArray(), stderr.ToArray(), stdout.Truncated || stderr.Truncated);
    }

    private async Task<JsonDocument?> SendAsync(HttpMethod method, ObjectPath target, HttpContent? content, bool dryRun, CancellationToken ct)
    {
        var uri = new Uri(client.BaseUri, target.Path + (dryRun ? "?dryRun=All" : string.Empty));
        using var request = new HttpRequestMessage(method, uri) { Content = content };
        request.Headers.Accept.ParseAdd("application/json");
        if (client.Credentials is { } credentials)
        {
            await credentials.ProcessHttpRequestAsync(request, ct).ConfigureAwait(false);
        }

        using var response = await client.HttpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        var bytes = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            string? reason = null;
            var message = $"{method} {target.Path}: {(int)response.StatusCode} {response.ReasonPhrase}";
            try
            {
                using var status = JsonDocument.Parse(bytes);
                reason = status.RootElement.TryGetProperty("reason", out var r) ? r.GetString() : null;
                if (status.RootElement.TryGetProperty("message", out var m) && m.GetString() is { Length: > 0 } text)
                {
                    message = $"{message}: {text}";
                }
            }
            catch (JsonException)
            {
            }

            throw new ClusterRequestException((int)response.StatusCode, reason, message);
        }

        return bytes.Length == 0 ? null : JsonDocument.Parse(bytes);
    }

    /// <summary>Collects a stream up to a limit, then drains (and drops) the rest.</summary>
    private sealed class BoundedBuffer(long limit)
    {
        private readonly MemoryStream _data = new();

        public bool Truncated { get; private set; }

        public async Task FillAsync(Stream source, CancellationToken ct)
        {
            var chunk = new byte[8192];
            int n;
            while ((n = await source.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
            {
                var room = (int)Math.Min(n, Math.Max(0, limit - _data.Length));
                _data.Write(chunk, 0, room);
                Truncated |= room < n;
            }
        }

        public byte[] ToArray() => _data.ToArray();
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, object>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(string[]))]
internal sealed partial class LiveJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
