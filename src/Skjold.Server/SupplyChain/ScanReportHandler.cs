using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Skjold.Server.AuditReceiver;
using Skjold.SupplyChain.Vulnerabilities;

namespace Skjold.Server.SupplyChain;

/// <summary>
/// POST /supply-chain/reports: CI posts an image's scan result (Trivy JSON, CycloneDX, SARIF or a Trivy operator
/// VulnerabilityReport) with the bearer token of supplyChain.vulnerabilities.reportTokenFile, and
/// <c>?digest=sha256:...</c> when the report does not name the image's digest itself. The admission gate uses it
/// from then on. 201 with a summary; 400 for a report that cannot be read or matched; 401 without the token;
/// 413 above 32 MiB.
/// </summary>
public sealed class ScanReportHandler(VulnerabilityReportStore store, string token)
{
    public const long MaxBodyBytes = 32L * 1024 * 1024;
    private readonly byte[] _token = Encoding.UTF8.GetBytes(token);

    public async Task HandleAsync(HttpContext context)
    {
        if (!AuditReceiverHandler.HasBearer(context, _token))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await Text(context, 401, "a bearer token is required (supplyChain.vulnerabilities.reportTokenFile)").ConfigureAwait(false);
            return;
        }

        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxBodyBytes + 1; // this endpoint's own limit, above the webhook's
        }

        using var body = await Hosting.BoundedBody.ReadAsync(context.Request, MaxBodyBytes, context.RequestAborted).ConfigureAwait(false);
        if (body.TooLarge)
        {
            await Text(context, 413, $"a scan report is at most {MaxBodyBytes} bytes").ConfigureAwait(false);
            return;
        }

        var digest = context.Request.Query["digest"].ToString();
        if (digest.Length > 0 && !Skjold.Engine.Workloads.ImageReference.IsValidDigest(digest))
        {
            await Text(context, 400, $"digest '{digest}' is not sha256:<64 hex> or sha512:<128 hex>").ConfigureAwait(false);
            return;
        }

        VulnerabilityReport report;
        try
        {
            report = VulnerabilityReportParser.Parse(body.Span, "request body");
        }
        catch (FormatException e)
        {
            await Text(context, 400, e.Message).ConfigureAwait(false);
            return;
        }

        if (digest.Length > 0)
        {
            report = report with { Digests = [.. report.Digests, digest] };
        }

        if (!store.Add(report))
        {
            await Text(context, 400, "the report names no image digest: add ?digest=sha256:... for the image it is about").ConfigureAwait(false);
            return;
        }

        context.Response.StatusCode = 201;
        context.Response.ContentType = "application/json";
        var reply = new JsonObject
        {
            ["format"] = report.Format,
            ["digests"] = new JsonArray([.. report.Digests.Select(d => (JsonNode)d)]),
            ["vulnerabilities"] = report.Vulnerabilities.Count,
            ["summary"] = report.Summary(),
        };
        await context.Response.WriteAsync(reply.ToJsonString(), context.RequestAborted).ConfigureAwait(false);
    }

    private static Task Text(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(message + "\n", context.RequestAborted);
    }
}
