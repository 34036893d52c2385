using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Skjold.Server.Tests;

/// <summary>
/// A stand-in for the Kubernetes API server's namespace list and watch, on loopback HTTP.
/// There is no API server on the test machines, so the client code is exercised against this
/// in-process server that speaks the same protocol: paginated list (limit/continue) with a
/// resourceVersion, and watch as a stream of newline-delimited {"type","object"} events,
/// including an ERROR event with status 410 when a resourceVersion has expired.
/// </summary>
internal sealed class FakeKubernetesApi : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Dictionary<string, string>> _namespaces = new();
    private readonly Channel<string> _events = Channel.CreateUnbounded<string>();
    private WebApplication _app = null!;
    private int _version = 100;

    public Uri Address { get; private set; } = null!;

    public int ListRequests;
    public int WatchRequests;

    /// <summary>When set, list requests wait for it (to observe readiness before the first sync).</summary>
    public TaskCompletionSource? HoldLists { get; set; }

    /// <summary>Watches starting from a version below this get an immediate 410 ERROR event.</summary>
    public int ExpiredBelow { get; set; }

    /// <summary>Answer this many list requests with 503 (an API server that is down) before serving them.</summary>
    public int FailLists;

    public void Add(string name, Dictionary<string, string> labels) => _namespaces[name] = labels;

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.MapGet("/api/v1/namespaces", HandleAsync);
        _app.MapGet("/api/v1/namespaces/{name}", (string name) =>
            _namespaces.TryGetValue(name, out var labels) ? Results.Text(Namespace(name, labels).ToJsonString(), "application/json") : Results.NotFound());
        await _app.StartAsync();
        Address = new Uri(_app.Urls.First());
    }

    /// <summary>Sends a watch event to the current watcher.</summary>
    public async Task EmitAsync(string type, string name, Dictionary<string, string> labels)
    {
        if (type == "DELETED")
        {
            _namespaces.TryRemove(name, out _);
        }
        else
        {
            _namespaces[name] = labels;
        }

        var ev = new JsonObject { ["type"] = type, ["object"] = Namespace(name, labels) };
        await _events.Writer.WriteAsync(ev.ToJsonString());
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        var query = ctx.Request.Query;
        if (query["watch"] == "true" || query["watch"] == "1")
        {
            Interlocked.Increment(ref WatchRequests);
            ctx.Response.ContentType = "application/json";
            var from = int.TryParse(query["resourceVersion"], CultureInfo.InvariantCulture, out var v) ? v : 0;
            if (from < ExpiredBelow)
            {
                var error = new JsonObject
                {
                    ["type"] = "ERROR",
                    ["object"] = new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["status"] = "Failure", ["message"] = "too old resource version", ["reason"] = "Expired", ["code"] = 410 },
                };
                await ctx.Response.WriteAsync(error.ToJsonString() + "\n", ctx.RequestAborted);
                return;
            }

            await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
            try
            {
                await foreach (var line in _events.Reader.ReadAllAsync(ctx.RequestAborted))
                {
                    await ctx.Response.WriteAsync(line + "\n", Encoding.UTF8, ctx.RequestAborted);
                    await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
                }
            }
            catch (OperationCanceledException)
            {
            }

            return;
        }

        Interlocked.Increment(ref ListRequests);
        if (Interlocked.Decrement(ref FailLists) >= 0)
        {
            ctx.Response.StatusCode = 503;
            await ctx.Response.WriteAsync("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"code\":503}", ctx.RequestAborted);
            return;
        }

        if (HoldLists is { } hold)
        {
            await hold.Task.WaitAsync(ctx.RequestAborted);
        }

        var all = _namespaces.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        var limit = int.TryParse(query["limit"], CultureInfo.InvariantCulture, out var l) && l > 0 ? l : all.Count;
        var start = int.TryParse(query["continue"], CultureInfo.InvariantCulture, out var c) ? c : 0;
        var page = all.Skip(start).Take(limit).ToList();
        var next = start + page.Count < all.Count ? (start + page.Count).ToString(CultureInfo.InvariantCulture) : null;
        var items = new JsonArray();
        foreach (var (name, labels) in page)
        {
            items.Add(Namespace(name, labels));
        }

        var list = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "NamespaceList",
            ["metadata"] = new JsonObject { ["resourceVersion"] = Interlocked.Increment(ref _version).ToString(CultureInfo.InvariantCulture), ["continue"] = next },
            ["items"] = items,
        };
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(list.ToJsonString(), ctx.RequestAborted);
    }

    private JsonObject Namespace(string name, Dictionary<string, string> labels)
    {
        var l = new JsonObject();
        foreach (var (k, v) in labels)
        {
            l[k] = v;
        }

        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Namespace",
            ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = l, ["resourceVersion"] = Interlocked.Increment(ref _version).ToString(CultureInfo.InvariantCulture) },
        };
    }

    public async ValueTask DisposeAsync()
    {
        _events.Writer.TryComplete();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
