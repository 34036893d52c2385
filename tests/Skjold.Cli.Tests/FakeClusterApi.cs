using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Skjold.Cli.Tests;

/// <summary>
/// A stand-in for the Kubernetes API server's list endpoints, on loopback HTTP. There is no API
/// server on the test machines, so <c>skjold snapshot</c> and <c>scan --cluster</c> are exercised
/// against this in-process server that speaks the same list protocol: <c>/version</c>, one
/// collection per resource (<c>/api/v1/pods</c>, <c>/apis/apps/v1/deployments</c>, ...), pages of
/// <c>limit</c> items with an opaque <c>continue</c> token, bearer-token authentication, 403 for
/// kinds the credentials may not list, and PartialObjectMetadataList when the client asks for it
/// with the Accept header (otherwise secrets are served with their data, as a real server would).
/// </summary>
internal sealed class FakeClusterApi : IAsyncDisposable
{
    private readonly Dictionary<string, List<JsonObject>> _collections = new(StringComparer.Ordinal);
    private WebApplication _app = null!;

    public FakeClusterApi(JsonArray items, string gitVersion)
    {
        GitVersion = gitVersion;
        foreach (var item in items.OfType<JsonObject>())
        {
            var kind = (string)item["kind"]!;
            var apiVersion = (string?)item["apiVersion"];
            var spec = Skjold.Kubernetes.Live.ClusterReader.Kinds.FirstOrDefault(k => k.Kind == kind && k.ApiVersion == apiVersion)
                ?? Skjold.Kubernetes.Live.ClusterReader.Kinds.FirstOrDefault(k => k.Kind == kind);
            if (spec is null)
            {
                continue;
            }

            var copy = (JsonObject)item.DeepClone();
            copy.Remove("apiVersion"); // list items of a real server carry them; the reader must not depend on it
            copy.Remove("kind");
            if (!_collections.TryGetValue(spec.Path, out var list))
            {
                _collections[spec.Path] = list = [];
            }

            list.Add(copy);
        }
    }

    public string GitVersion { get; }

    public string Token { get; } = "test-token-" + Guid.NewGuid().ToString("N");

    public HashSet<string> Forbidden { get; } = new(StringComparer.Ordinal);

    /// <summary>Collections the server does not have (a custom resource whose CRD is not installed): 404.</summary>
    public HashSet<string> NotServed { get; } = new(StringComparer.Ordinal);

    public Uri Address { get; private set; } = null!;

    public int PageRequests;

    public int MetadataOnlyRequests;

    public int Unauthorized;

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.Use(async (ctx, next) =>
        {
            if (ctx.Request.Headers.Authorization != $"Bearer {Token}")
            {
                Interlocked.Increment(ref Unauthorized);
                ctx.Response.StatusCode = 401;
                return;
            }

            await next(ctx);
        });
        _app.MapGet("/version", () => Results.Json(new { major = "1", minor = "29", gitVersion = GitVersion }));
        _app.MapGet("/{**path}", (HttpContext ctx, string path) => List(ctx, "/" + path));
        await _app.StartAsync();
        Address = new Uri(_app.Urls.First());
    }

    /// <summary>A kubeconfig file that points at this server with its token.</summary>
    public string WriteKubeconfig(string dir)
    {
        var path = Path.Combine(dir, "kubeconfig");
        File.WriteAllText(path, $$"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: fake
              cluster:
                server: {{Address.ToString().TrimEnd('/')}}
            users:
            - name: reader
              user:
                token: {{Token}}
            contexts:
            - name: fake
              context: {cluster: fake, user: reader}
            current-context: fake
            """);
        return path;
    }

    private IResult List(HttpContext ctx, string path)
    {
        Interlocked.Increment(ref PageRequests);
        if (Forbidden.Contains(path))
        {
            return Results.Json(new { kind = "Status", apiVersion = "v1", status = "Failure", reason = "Forbidden", code = 403 }, statusCode: 403);
        }

        if (NotServed.Contains(path))
        {
            return Results.Json(new { kind = "Status", apiVersion = "v1", status = "Failure", reason = "NotFound", code = 404 }, statusCode: 404);
        }

        if (!_collections.TryGetValue(path, out var all))
        {
            all = [];
            if (!Skjold.Kubernetes.Live.ClusterReader.Kinds.Any(k => k.Path == path))
            {
                return Results.NotFound();
            }
        }

        var limit = int.TryParse(ctx.Request.Query["limit"], CultureInfo.InvariantCulture, out var l) && l > 0 ? l : int.MaxValue;
        var offset = 0;
        if (ctx.Request.Query["continue"] is { Count: > 0 } c)
        {
            var token = System.Text.Encoding.ASCII.GetString(Convert.FromBase64String(c.ToString()));
            offset = int.Parse(token["offset:".Length..], CultureInfo.InvariantCulture);
        }

        var metadataOnly = ctx.Request.Headers.Accept.ToString().Contains("as=PartialObjectMetadataList", StringComparison.Ordinal);
        if (metadataOnly)
        {
            Interlocked.Increment(ref MetadataOnlyRequests);
        }

        var page = all.Skip(offset).Take(limit).Select(o =>
        {
            if (metadataOnly)
            {
                return new JsonObject { ["metadata"] = o["metadata"]!.DeepClone() };
            }

            var copy = (JsonObject)o.DeepClone();
            if (path == "/api/v1/secrets")
            {
                copy["data"] = new JsonObject { ["password"] = "c3VwZXItc2VjcmV0LXZhbHVl" }; // what a full GET would leak
            }

            return copy;
        }).ToList();
        var next = offset + page.Count;
        var metadata = new JsonObject { ["resourceVersion"] = "4242" };
        if (next < all.Count)
        {
            metadata["continue"] = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes("offset:" + next.ToString(CultureInfo.InvariantCulture)));
        }

        var body = new JsonObject
        {
            ["kind"] = metadataOnly ? "PartialObjectMetadataList" : "List",
            ["apiVersion"] = metadataOnly ? "meta.k8s.io/v1" : "v1",
            ["metadata"] = metadata,
            ["items"] = new JsonArray([.. page]),
        };
        return Results.Text(body.ToJsonString(), "application/json");
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
