using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Skjold.Alerts.Outputs;

/// <summary>The body a JSON webhook is sent: the alerts of one delivery, in order.</summary>
internal sealed record WebhookBody(IReadOnlyList<Alert> Alerts);

/// <summary>One event in Splunk's HTTP Event Collector format.</summary>
internal sealed record HecEvent(
    [property: JsonPropertyName("time")] double Time,
    [property: JsonPropertyName("host")] string Host,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("sourcetype")] string SourceType,
    [property: JsonPropertyName("index")] string? Index,
    [property: JsonPropertyName("event")] Alert Event);

/// <summary>One alert in Alertmanager's v2 API (<c>POST /api/v2/alerts</c>).</summary>
internal sealed record AlertmanagerAlert(
    [property: JsonPropertyName("labels")] IReadOnlyDictionary<string, string> Labels,
    [property: JsonPropertyName("annotations")] IReadOnlyDictionary<string, string> Annotations,
    [property: JsonPropertyName("startsAt")] DateTimeOffset StartsAt,
    [property: JsonPropertyName("endsAt")] DateTimeOffset? EndsAt,
    [property: JsonPropertyName("generatorURL")] string? GeneratorUrl);

/// <summary>The shape of a webhook's body.</summary>
public enum WebhookShape
{
    /// <summary><c>{"alerts":[...]}</c> with Skjold's alert fields.</summary>
    Json,

    /// <summary>Splunk HEC: one <c>{"time","host","source","sourcetype","event"}</c> object per alert, concatenated; <c>Authorization: Splunk TOKEN</c>.</summary>
    SplunkHec,
}

/// <summary>Settings shared by the HTTP outputs.</summary>
public sealed record HttpOutputSettings
{
    public required Uri Url { get; init; }

    /// <summary>The token sent as <c>Authorization: Bearer</c> (or <c>Splunk</c> for HEC); never logged.</summary>
    public string? Token { get; init; }

    public X509Certificate2Collection? TrustedCas { get; init; }

    public X509Certificate2? ClientCertificate { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    public WebhookShape Shape { get; init; } = WebhookShape.Json;

    /// <summary>HEC index (optional).</summary>
    public string? Index { get; init; }

    public string Hostname { get; init; } = Environment.MachineName;

    /// <summary>How long Alertmanager keeps an alert firing (its <c>endsAt</c>); null leaves it to Alertmanager's resolve_timeout.</summary>
    public TimeSpan? ResolveAfter { get; init; }
}

/// <summary>An HTTP output: a delivery is confirmed by a 2xx answer; anything else is retried.</summary>
public abstract class HttpAlertOutput : IAlertOutput
{
    private readonly HttpClient _client;
    private long _confirmed;

    protected HttpAlertOutput(string name, HttpOutputSettings settings, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Name = name;
        Settings = settings;
        _client = new HttpClient(handler ?? new SocketsHttpHandler
        {
            SslOptions = TlsClient.Options(null, settings.TrustedCas, settings.ClientCertificate),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = settings.Timeout,
            AllowAutoRedirect = false, // a redirect could carry the token elsewhere
        })
        {
            Timeout = settings.Timeout,
        };
    }

    public string Name { get; }

    protected HttpOutputSettings Settings { get; }

    protected abstract Uri Target { get; }

    protected abstract HttpContent Body(IReadOnlyList<OutboxEntry> entries);

    protected virtual AuthenticationHeaderValue? Authorization => Settings.Token is { } t ? new AuthenticationHeaderValue("Bearer", t) : null;

    public async ValueTask<long> SendAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0)
        {
            return _confirmed;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, Target) { Content = Body(entries) };
        request.Headers.Authorization = Authorization;
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new AlertDeliveryException($"{Name}: {Target.GetLeftPart(UriPartial.Path)} answered {(int)response.StatusCode} {response.ReasonPhrase}");
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new AlertDeliveryException($"{Name}: {Target.GetLeftPart(UriPartial.Path)}: {ex.Message}", ex);
        }

        _confirmed = entries[^1].Seq;
        return _confirmed;
    }

    public ValueTask<long> ConfirmAsync(CancellationToken cancellationToken) => ValueTask.FromResult(_confirmed);

    public ValueTask ResetAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    protected static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}

/// <summary>A JSON webhook: Skjold's own shape or Splunk's HTTP Event Collector.</summary>
public sealed class WebhookOutput(string name, HttpOutputSettings settings, HttpMessageHandler? handler = null) : HttpAlertOutput(name, settings, handler)
{
    protected override Uri Target => Settings.Url;

    protected override AuthenticationHeaderValue? Authorization =>
        Settings.Shape == WebhookShape.SplunkHec && Settings.Token is { } t ? new AuthenticationHeaderValue("Splunk", t) : base.Authorization;

    protected override HttpContent Body(IReadOnlyList<OutboxEntry> entries)
    {
        if (Settings.Shape == WebhookShape.Json)
        {
            return Json(JsonSerializer.Serialize(new WebhookBody([.. entries.Select(e => e.Alert)]), AlertsJsonContext.Default.WebhookBody));
        }

        var sb = new StringBuilder();
        foreach (var e in entries)
        {
            var time = Math.Round(e.Alert.Time.ToUnixTimeMilliseconds() / 1000.0, 3);
            sb.Append(JsonSerializer.Serialize(new HecEvent(time, Settings.Hostname, "skjold", "skjold:alert", Settings.Index, e.Alert), AlertsJsonContext.Default.HecEvent)).Append('\n');
        }

        return Json(sb.ToString());
    }
}

/// <summary>
/// Alertmanager's v2 API. Each alert becomes one Alertmanager alert whose labels are the rule
/// (<c>alertname</c>), severity, source, namespace and the alert id (so a redelivery is the same
/// alert to Alertmanager, and two alerts are never merged); the output text is an annotation.
/// </summary>
public sealed class AlertmanagerOutput(string name, HttpOutputSettings settings, HttpMessageHandler? handler = null) : HttpAlertOutput(name, settings, handler)
{
    protected override Uri Target => new(Settings.Url, Settings.Url.AbsolutePath.TrimEnd('/') + "/api/v2/alerts");

    protected override HttpContent Body(IReadOnlyList<OutboxEntry> entries) =>
        Json(JsonSerializer.Serialize(entries.Select(e => ToAlertmanager(e.Alert)).ToList(), AlertsJsonContext.Default.ListAlertmanagerAlert));

    private AlertmanagerAlert ToAlertmanager(Alert a)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["alertname"] = a.Rule,
            ["severity"] = a.Priority.ToString().ToLowerInvariant(),
            ["source"] = a.Source,
            ["alert_id"] = a.Id,
            ["generator"] = "skjold",
        };
        if (a.Fields.TryGetValue("namespace", out var ns))
        {
            labels["namespace"] = ns;
        }

        var annotations = new Dictionary<string, string>(StringComparer.Ordinal) { ["summary"] = a.Output };
        if (a.Tags.Count > 0)
        {
            annotations["tags"] = string.Join(',', a.Tags);
        }

        if (a.Leaves.Count > 0)
        {
            annotations["trail_leaves"] = string.Join(',', a.Leaves.Select(l => l.ToString(CultureInfo.InvariantCulture)));
        }

        foreach (var (k, v) in a.Fields)
        {
            annotations.TryAdd(k, v);
        }

        return new AlertmanagerAlert(labels, annotations, a.Time, Settings.ResolveAfter is { } r ? a.Time + r : null, null);
    }
}
