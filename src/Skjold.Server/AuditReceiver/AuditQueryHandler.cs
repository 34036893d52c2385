using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Skjold.Audit;
using Skjold.Audit.Export;
using Skjold.Audit.Query;
using Skjold.Audit.Storage;

namespace Skjold.Server.AuditReceiver;

/// <summary>
/// The audit trail's read API for investigators, beside the receiver. Reading who accessed what is
/// itself sensitive, so it has its own bearer token (never the API server's):
/// <list type="bullet">
/// <item>GET /audit/events: the filters of <c>skjold audit query</c> as query parameters (since, until,
/// user, group, verb, resource, namespace, name, subresource, source-ip, code, limit, order) or a
/// named question (who-read-secret=NS/NAME, activity-of=USER, exec-sessions, denied, rbac-changes);
/// JSON, or CSV with format=csv or Accept: text/csv.</item>
/// <item>GET /audit/proof/{index}: the event's inclusion proof against the latest signed tree head.</item>
/// <item>GET /audit/consistency/{size}: proof that the latest signed tree extends the tree of that size.</item>
/// </list>
/// </summary>
public sealed partial class AuditQueryHandler
{
    /// <summary>Most events one request returns.</summary>
    public const int MaxLimit = 10_000;

    private static readonly HashSet<string> Known = new(StringComparer.Ordinal)
    {
        "since", "until", "user", "group", "verb", "resource", "namespace", "name", "subresource", "source-ip", "code", "limit", "order", "format",
        "who-read-secret", "activity-of", "exec-sessions", "denied", "rbac-changes",
    };

    private readonly AuditLog _log;
    private readonly byte[] _token;
    private readonly TimeProvider _time;
    private readonly ILogger<AuditQueryHandler> _logger;

    public AuditQueryHandler(AuditLog log, AuditReceiverOptions options, ILogger<AuditQueryHandler> logger, TimeProvider? time = null)
    {
        _log = log;
        _token = Encoding.UTF8.GetBytes(options.QueryToken ?? throw new ArgumentException("the audit query API needs a query token"));
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    public async Task EventsAsync(HttpContext context)
    {
        if (!await AuthorizedAsync(context).ConfigureAwait(false))
        {
            return;
        }

        AuditQuery query;
        try
        {
            query = Parse(context.Request.Query, _time.GetUtcNow());
        }
        catch (FormatException ex)
        {
            await ProblemAsync(context, 400, ex.Message).ConfigureAwait(false);
            return;
        }

        List<Skjold.Audit.Events.AuditRecord> rows;
        try
        {
            // Confirmed against the signed tree: an edited row or index makes the answer fail, not lie.
            using var verifier = new Skjold.Audit.Signing.TreeHeadVerifier(_log.Keys.PublicKeyPem);
            var answer = await new Skjold.Audit.Query.ConfirmedQuery(_log.Store, verifier).RunAsync(query, payloads: false, context.RequestAborted).ConfigureAwait(false);
            rows = [.. answer.Rows.Select(r => r.Record)];
            context.Response.Headers["X-Skjold-Signed-Size"] = answer.SignedSize.ToString(CultureInfo.InvariantCulture);
            context.Response.Headers["X-Skjold-Unsigned-Rows"] = answer.UnsignedRows.ToString(CultureInfo.InvariantCulture);
        }
        catch (Skjold.Audit.Query.AuditQueryTamperedException ex)
        {
            await ProblemAsync(context, 409, ex.Message).ConfigureAwait(false);
            return;
        }

        ServerLog.AuditQueryAnswered(_logger, rows.Count, context.Connection.RemoteIpAddress?.ToString());
        var csv = context.Request.Query["format"] == "csv"
            || (context.Request.Query["format"].Count == 0 && context.Request.Headers.Accept.ToString().Contains("text/csv", StringComparison.OrdinalIgnoreCase));
        if (csv)
        {
            context.Response.ContentType = "text/csv; charset=utf-8";
            var text = new StringBuilder(AuditRecordFormats.CsvHeader).Append('\n');
            foreach (var r in rows)
            {
                text.Append(AuditRecordFormats.CsvRow(r)).Append('\n');
            }

            await context.Response.WriteAsync(text.ToString(), context.RequestAborted).ConfigureAwait(false);
            return;
        }

        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(AuditRecordFormats.Json(rows), context.RequestAborted).ConfigureAwait(false);
    }

    public async Task ProofAsync(HttpContext context)
    {
        if (!await AuthorizedAsync(context).ConfigureAwait(false))
        {
            return;
        }

        if (!long.TryParse(context.Request.RouteValues["index"] as string, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            await ProblemAsync(context, 400, "the leaf index must be a non-negative integer").ConfigureAwait(false);
            return;
        }

        var head = await _log.SignNowAsync(context.RequestAborted).ConfigureAwait(false);
        if (head is null || index >= head.Size)
        {
            await ProblemAsync(context, 404, $"leaf {index} is not in the log").ConfigureAwait(false);
            return;
        }

        if (await ProofDocuments.InclusionAsync(_log.Store, index, head, context.RequestAborted).ConfigureAwait(false) is not { } doc)
        {
            await ProblemAsync(context, 404, $"leaf {index} is missing from the store; run skjold audit verify").ConfigureAwait(false);
            return;
        }

        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(ProofDocuments.Text(doc, indented: false), context.RequestAborted).ConfigureAwait(false);
    }

    public async Task ConsistencyAsync(HttpContext context)
    {
        if (!await AuthorizedAsync(context).ConfigureAwait(false))
        {
            return;
        }

        if (!long.TryParse(context.Request.RouteValues["size"] as string, NumberStyles.None, CultureInfo.InvariantCulture, out var size) || size < 1)
        {
            await ProblemAsync(context, 400, "the earlier tree size must be a positive integer").ConfigureAwait(false);
            return;
        }

        var head = await _log.SignNowAsync(context.RequestAborted).ConfigureAwait(false);
        if (head is null || size > head.Size)
        {
            await ProblemAsync(context, 404, $"the log has {head?.Size ?? 0} leaves, fewer than {size}").ConfigureAwait(false);
            return;
        }

        var doc = await ProofDocuments.ConsistencyAsync(_log.Store, size, head, context.RequestAborted).ConfigureAwait(false);
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(ProofDocuments.Text(doc, indented: false), context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The query a request's parameters describe; unknown parameters are refused rather than ignored.</summary>
    public static AuditQuery Parse(IQueryCollection p, DateTimeOffset now)
    {
        foreach (var key in p.Keys)
        {
            if (!Known.Contains(key))
            {
                throw new FormatException($"unknown parameter '{key}'; known: {string.Join(", ", Known.Order(StringComparer.Ordinal))}");
            }
        }

        string? One(string name) => p[name].Count switch
        {
            0 => null,
            1 => p[name][0],
            _ => throw new FormatException($"'{name}' may be given once"),
        };

        bool Flag(string name) => One(name) is { } v && (v.Length == 0 || v is "true" or "1"
            ? true
            : v is "false" or "0" ? false : throw new FormatException($"'{name}' takes true or false"));

        var limit = 1000;
        if (One("limit") is { } l && (!int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > MaxLimit))
        {
            throw new FormatException($"'limit' must be a whole number from 1 to {MaxLimit}");
        }

        var codes = new List<int>();
        foreach (var c in p["code"])
        {
            codes.Add(int.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out var code) && code is >= 100 and <= 599
                ? code
                : throw new FormatException($"'code' must be an HTTP status code, not '{c}'"));
        }

        var order = One("order");
        if (order is not null and not "asc" and not "desc")
        {
            throw new FormatException("'order' is asc (log order, the default) or desc (newest first)");
        }

        var q = new AuditQuery
        {
            Since = AuditQuestions.ParseTime(One("since"), "since", now),
            Until = AuditQuestions.ParseTime(One("until"), "until", now),
            User = One("user"),
            Group = One("group"),
            Verbs = [.. p["verb"].OfType<string>()],
            Resource = One("resource"),
            Namespace = One("namespace"),
            Name = One("name"),
            Subresources = [.. p["subresource"].OfType<string>()],
            SourceIp = One("source-ip"),
            Codes = codes,
            Limit = limit,
            Descending = order == "desc",
        };
        if (One("who-read-secret") is { } secret)
        {
            q = AuditQuestions.WhoReadSecret(q, secret);
        }

        if (One("activity-of") is { } user)
        {
            q = AuditQuestions.ActivityOf(q, user);
        }

        if (Flag("exec-sessions"))
        {
            q = AuditQuestions.ExecSessions(q);
        }

        if (Flag("denied"))
        {
            q = AuditQuestions.Denied(q);
        }

        if (Flag("rbac-changes"))
        {
            q = AuditQuestions.RbacChanges(q);
        }

        return q;
    }

    private async Task<bool> AuthorizedAsync(HttpContext context)
    {
        if (AuditReceiverHandler.HasBearer(context, _token))
        {
            return true;
        }

        ServerLog.AuditQueryUnauthorized(_logger, context.Request.Path, context.Connection.RemoteIpAddress?.ToString());
        context.Response.Headers.WWWAuthenticate = "Bearer";
        await ProblemAsync(context, 401, "the audit query API needs its bearer token (--query-token-file)").ConfigureAwait(false);
        return false;
    }

    private static async Task ProblemAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(message + "\n", context.RequestAborted).ConfigureAwait(false);
    }
}
