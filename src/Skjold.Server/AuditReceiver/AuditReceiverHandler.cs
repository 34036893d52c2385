using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Prometheus;
using Skjold.Audit;
using Skjold.Audit.Events;
using Skjold.Server.Observability;

namespace Skjold.Server.AuditReceiver;

/// <summary>
/// POST /audit: the API server's audit webhook backend. Authenticates the sender (bearer token or
/// client certificate), limits the body, reads an EventList (or one Event; v1 and v1beta1), seals
/// the events and answers 200 only once they are durable, so the API server retries anything not
/// stored. Items that are not audit events are recorded as a rejection event rather than dropped.
/// </summary>
public sealed partial class AuditReceiverHandler
{
    private readonly AuditLog _log;
    private readonly AuditReceiverOptions _options;
    private readonly ILogger<AuditReceiverHandler> _logger;
    private readonly byte[]? _token;
    private readonly Counter _events;
    private readonly Counter _batches;
    private readonly Histogram _duration;

    public AuditReceiverHandler(AuditLog log, AuditReceiverOptions options, ServerMetrics metrics, ILogger<AuditReceiverHandler> logger)
    {
        _log = log;
        _options = options;
        _logger = logger;
        _token = options.Token is null ? null : Encoding.UTF8.GetBytes(options.Token);
        var factory = Metrics.WithCustomRegistry(metrics.Registry);
        _events = factory.CreateCounter("skjold_audit_events_total", "Audit events sealed by the receiver.");
        _batches = factory.CreateCounter("skjold_audit_batches_total", "Audit batches received, by result.", new CounterConfiguration { LabelNames = ["result"] });
        _duration = factory.CreateHistogram("skjold_audit_batch_duration_seconds", "Time from receiving a batch to answering, including the durable commit.",
            new HistogramConfiguration { Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
    }

    public async Task HandleAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        if (!Authenticated(context))
        {
            _batches.WithLabels("unauthorized").Inc();
            ServerLog.AuditBatchUnauthorized(_logger, context.Connection.RemoteIpAddress?.ToString());
            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await context.Response.WriteAsync("authentication required: bearer token or client certificate\n", context.RequestAborted).ConfigureAwait(false);
            return;
        }

        using var body = await Hosting.BoundedBody.ReadAsync(context.Request, _options.MaxBodyBytes, context.RequestAborted).ConfigureAwait(false);
        if (body.TooLarge)
        {
            await RejectAsync(context, 413, "too-large", body.DeclaredLength is { } length
                ? $"audit batch of {length} bytes exceeds the limit of {_options.MaxBodyBytes} bytes"
                : $"audit batch exceeds the limit of {_options.MaxBodyBytes} bytes").ConfigureAwait(false);
            return;
        }

        using var parsed = AuditEventReader.ReadBody(body.Memory);
        await StoreAsync(context, parsed, started).ConfigureAwait(false);
    }

    private async Task StoreAsync(HttpContext context, AuditEventReader.ReadResult parsed, long started)
    {
        if (parsed.Events.Count == 0 && parsed.Errors.Count > 0)
        {
            await RejectAsync(context, 400, "malformed", parsed.Errors[0]).ConfigureAwait(false);
            return;
        }

        try
        {
            foreach (var error in parsed.Errors)
            {
                await _log.RecordSystemEventAsync("ingest-rejected", $"audit webhook batch item rejected: {error}",
                    new Dictionary<string, string> { ["skjold.io/reason"] = error, ["skjold.io/source"] = "webhook" }, context.RequestAborted).ConfigureAwait(false);
            }

            var result = await _log.AppendAsync(parsed.Events, null, context.RequestAborted).ConfigureAwait(false);
            _events.Inc(parsed.Events.Count);
            _batches.WithLabels("stored").Inc();
            ServerLog.AuditBatchStored(_logger, parsed.Events.Count, result.FirstIndex, result.Size, parsed.Errors.Count);
            context.Response.StatusCode = 200;
            await context.Response.WriteAsync($"stored {parsed.Events.Count} events at {result.FirstIndex}\n", context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
        {
            // Not durable: tell the API server so that it retries.
            _batches.WithLabels("failed").Inc();
            ServerLog.AuditBatchStoreFailed(_logger, ex.GetType().Name, ex.Message);
            context.Response.StatusCode = 503;
            await context.Response.WriteAsync("audit events could not be stored; retry\n", CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _duration.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    private async Task RejectAsync(HttpContext context, int status, string label, string reason)
    {
        _batches.WithLabels(label).Inc();
        ServerLog.AuditBatchRejected(_logger, status, reason);
        context.Response.StatusCode = status;
        await context.Response.WriteAsync(reason + "\n", context.RequestAborted).ConfigureAwait(false);
    }

    private bool Authenticated(HttpContext context)
    {
        if (_token is not null && HasBearer(context, _token))
        {
            return true;
        }

        if (_options.ClientCa is { } ca && context.Connection.ClientCertificate is { } cert)
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.2"));
            return chain.Build(cert);
        }

        return false;
    }

    /// <summary>Whether the request carries <paramref name="token"/> as its bearer token (compared in constant time).</summary>
    internal static bool HasBearer(HttpContext context, byte[] token) =>
        context.Request.Headers.Authorization.ToString() is { Length: > 7 } header
        && header.StartsWith("Bearer ", StringComparison.Ordinal)
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[7..].Trim()), token);
}
