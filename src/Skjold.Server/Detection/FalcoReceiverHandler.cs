using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Prometheus;
using Skjold.Audit;
using Skjold.Server.Observability;

namespace Skjold.Server.Detection;

/// <summary>
/// POST /falco: Falco's runtime alerts (its http_output, pointed at Skjold). The sender presents the
/// Falco bearer token; each alert is sealed into the audit trail as a <c>falco-alert</c> event
/// (rule, priority, output, the pod, namespace, node and container it names, and its id) before the
/// answer, then queued for the outputs like Skjold's own alerts. A malformed body is a 400 that
/// says what is wrong; nothing of it is sealed.
/// </summary>
public sealed class FalcoReceiverHandler
{
    /// <summary>The verb of a sealed Falco alert.</summary>
    public const string AlertVerb = "falco-alert";

    private readonly AuditLog _log;
    private readonly DetectionPipeline _pipeline;
    private readonly byte[] _token;
    private readonly long _maxBody;
    private readonly ILogger<FalcoReceiverHandler> _logger;
    private readonly Counter _requests;

    public FalcoReceiverHandler(AuditLog log, DetectionPipeline pipeline, FalcoReceiverOptions options, ServerMetrics metrics, ILogger<FalcoReceiverHandler> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        _log = log;
        _pipeline = pipeline;
        _token = Encoding.UTF8.GetBytes(options.Token);
        _maxBody = options.MaxBodyBytes;
        _logger = logger;
        _requests = Metrics.WithCustomRegistry(metrics.Registry).CreateCounter("skjold_falco_requests_total", "Falco alert posts, by result.", new CounterConfiguration { LabelNames = ["result"] });
    }

    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!AuditReceiver.AuditReceiverHandler.HasBearer(context, _token))
        {
            _requests.WithLabels("unauthorized").Inc();
            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await context.Response.WriteAsync("authentication required: the Falco bearer token\n", context.RequestAborted).ConfigureAwait(false);
            return;
        }

        using var body = await Hosting.BoundedBody.ReadAsync(context.Request, _maxBody, context.RequestAborted).ConfigureAwait(false);
        if (body.TooLarge)
        {
            await RejectAsync(context, 413, "too-large", $"Falco alert body exceeds the limit of {_maxBody} bytes").ConfigureAwait(false);
            return;
        }

        var (alerts, error) = FalcoAlertReader.Read(body.Memory.Span);
        if (error is not null)
        {
            await RejectAsync(context, 400, "malformed", error).ConfigureAwait(false);
            return;
        }

        var sealedAlerts = new List<Skjold.Alerts.Alert>(alerts.Count);
        foreach (var a in alerts)
        {
            var details = new Dictionary<string, string>
            {
                [Retention.RecordPrefix + "rule"] = a.Rule,
                [Retention.RecordPrefix + "priority"] = a.Priority.ToString(),
                [Retention.RecordPrefix + "output"] = a.Output,
                [Retention.RecordPrefix + "source"] = a.Source,
                [Retention.RecordPrefix + "tags"] = string.Join(',', a.Tags),
                [Retention.RecordPrefix + "alert-id"] = a.Id,
                [Retention.RecordPrefix + "time"] = a.Time.ToString("O", CultureInfo.InvariantCulture),
            };
            foreach (var (k, v) in a.Fields)
            {
                details[Retention.RecordPrefix + "falco-" + k] = v;
            }

            var at = await _log.RecordSystemEventAsync(AlertVerb, $"{a.Priority}: {a.Rule}", details, context.RequestAborted).ConfigureAwait(false);
            sealedAlerts.Add(a with { Leaves = [at.FirstIndex] });
            ServerLog.FalcoAlertSealed(_logger, a.Rule, a.Priority.ToString(), at.FirstIndex);
        }

        await _pipeline.ForwardAsync(sealedAlerts, context.RequestAborted).ConfigureAwait(false);
        _requests.WithLabels("ok").Inc();
        context.Response.StatusCode = 200;
        await context.Response.WriteAsync($"sealed {sealedAlerts.Count} alert(s)\n", context.RequestAborted).ConfigureAwait(false);
    }

    private async Task RejectAsync(HttpContext context, int status, string label, string reason)
    {
        _requests.WithLabels(label).Inc();
        ServerLog.FalcoRejected(_logger, status, FalcoAlertReader.Short(reason));
        context.Response.StatusCode = status;
        await context.Response.WriteAsync(reason + "\n", context.RequestAborted).ConfigureAwait(false);
    }
}

/// <summary>How /falco authenticates Falco, and how large a body may be.</summary>
public sealed record FalcoReceiverOptions
{
    /// <summary>The bearer token Falco's http_output sends (its <c>http_output.custom_headers</c>); at least 16 characters.</summary>
    public required string Token { get; init; }

    public long MaxBodyBytes { get; init; } = 1024 * 1024;

    public void Validate()
    {
        if (Token is not { Length: >= 16 })
        {
            throw new ArgumentException("the Falco bearer token must be at least 16 characters", "FalcoToken");
        }

        if (MaxBodyBytes <= 0)
        {
            throw new ArgumentException("must be positive", "FalcoMaxBodyBytes");
        }
    }
}
