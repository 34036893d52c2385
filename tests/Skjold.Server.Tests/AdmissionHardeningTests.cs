using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Skjold.Server.Tests;

/// <summary>
/// Admission requests shaped to slip through: kinds that disagree with the resource, malformed pod
/// specs, invalid UTF-8, bodies at and over the limit, and label values a client chooses.
/// </summary>
public sealed class AdmissionHardeningTests : IAsyncLifetime
{
    private WebhookServer _server = null!;

    private const string PrivilegedPod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: bad, namespace: baseline-ns}
        spec:
          containers:
          - name: app
            image: registry.example.com/app:1.0
            securityContext: {privileged: true}
        """;

    public async Task InitializeAsync() => _server = await WebhookServer.StartAsync(maxBody: 8192);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static bool Allowed(System.Text.Json.JsonElement review) => review.GetProperty("response").GetProperty("allowed").GetBoolean();

    private static string Message(System.Text.Json.JsonElement review) => review.GetProperty("response").GetProperty("status").GetProperty("message").GetString()!;

    private static JsonObject Review(string yaml, Action<JsonObject> change)
    {
        var review = (JsonObject)JsonNode.Parse(WebhookServer.Review(yaml, "baseline-ns"))!;
        change(review["request"]!.AsObject());
        return review;
    }

    [Fact]
    public async Task PodReview_DecidedByTheResource_NotByKindFields()
    {
        // The object claims another kind, has none, or the request's kind disagrees with its resource.
        JsonObject[] reviews =
        [
            Review(PrivilegedPod, r => r["object"]!["kind"] = "ConfigMap"),
            Review(PrivilegedPod, r => r["object"]!.AsObject().Remove("kind")),
            Review(PrivilegedPod, r => r["kind"]!["kind"] = "ConfigMap"),
            Review(PrivilegedPod, r => { r["kind"]!["kind"] = "ConfigMap"; r["object"]!["kind"] = "ConfigMap"; }),
        ];
        foreach (var review in reviews)
        {
            var answer = await _server.ReviewAsync("/validate", review.ToJsonString());
            Assert.False(Allowed(answer), review.ToJsonString());
            Assert.Contains("PodSecurity", Message(answer), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("containers: {name: app}", "spec.containers is not a list")]
    [InlineData("containers: [app]", "spec.containers[0] is not an object")]
    [InlineData("containers: [{name: a, image: x}]\n  initContainers: oops", "spec.initContainers is not a list")]
    [InlineData("containers: [{name: a, image: x, securityContext: true}]", "spec.containers[0].securityContext is not an object")]
    [InlineData("hostNetwork: true", "spec.containers is missing")]
    public async Task MalformedPod_IsDenied(string spec, string problem)
    {
        var pod = $"apiVersion: v1\nkind: Pod\nmetadata: {{name: m, namespace: baseline-ns}}\nspec:\n  {spec}\n";
        var answer = await _server.ReviewAsync("/validate", WebhookServer.Review(pod, "baseline-ns"));
        Assert.False(Allowed(answer));
        Assert.Contains(problem, Message(answer), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedTemplate_IsDenied()
    {
        var deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: baseline-ns}\nspec: {template: {spec: {containers: 5}}}\n";
        var answer = await _server.ReviewAsync("/validate", WebhookServer.Review(deployment, "baseline-ns"));
        Assert.False(Allowed(answer));
        Assert.Contains("spec.template.spec.containers is not a list", Message(answer), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidUtf8_Gets400()
    {
        var json = WebhookServer.Review(PrivilegedPod, "baseline-ns");
        var bytes = Encoding.UTF8.GetBytes(json.Replace("\"bad\"", "\"b\u00e9d\"", StringComparison.Ordinal));
        var at = Array.IndexOf(bytes, (byte)0xC3);
        bytes[at] = 0xFF; // not UTF-8
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await _server.Client.PostAsync("/validate", content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("not valid UTF-8", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BodyAtTheLimit_AcceptedChunkedOrNot_AndOverIt413()
    {
        var json = WebhookServer.Review("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: baseline-ns}\ndata: {k: PAD}\n", "baseline-ns");
        var exact = json.Replace("PAD", new string('p', 8192 - json.Length + 3), StringComparison.Ordinal);
        Assert.Equal(8192, Encoding.UTF8.GetByteCount(exact));
        foreach (var chunked in new[] { false, true })
        {
            using var ok = await SendAsync(exact, chunked);
            Assert.True(ok.StatusCode == HttpStatusCode.OK, $"chunked={chunked}: {ok.StatusCode} {await ok.Content.ReadAsStringAsync()}");
            using var over = await SendAsync(exact.Replace("ppp", "pppp", StringComparison.Ordinal), chunked);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, over.StatusCode);
        }

        var metrics = await _server.Client.GetStringAsync("/metrics");
        Assert.Contains("skjold_admission_bad_requests_total{reason=\"too-large\"} 2", metrics, StringComparison.Ordinal);
    }

    private Task<HttpResponseMessage> SendAsync(string body, bool chunked)
    {
        HttpContent content = chunked ? new StreamContent(new UnseekableStream(Encoding.UTF8.GetBytes(body))) : new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, "/validate") { Content = content };
        if (chunked)
        {
            request.Headers.TransferEncodingChunked = true;
        }

        return _server.Client.SendAsync(request);
    }

    [Fact]
    public async Task MetricLabels_AreBounded_AndViolationsCarryTheirMode()
    {
        await _server.ReviewAsync("/validate", Review(PrivilegedPod, r => r["operation"] = "EVIL-" + Guid.NewGuid()).ToJsonString());
        await _server.ReviewAsync("/validate", Review("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: baseline-ns}\n", r =>
        {
            r["kind"]!["kind"] = "Kind-" + Guid.NewGuid();
            r["resource"]!["resource"] = "widgets";
        }).ToJsonString());
        await _server.ReviewAsync("/validate", WebhookServer.Review(PrivilegedPod, "baseline-ns"));
        var metrics = await _server.Client.GetStringAsync("/metrics");
        Assert.Contains("operation=\"other\"", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("EVIL-", metrics, StringComparison.Ordinal);
        Assert.Contains("kind=\"other\"", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("Kind-", metrics, StringComparison.Ordinal);

        // baseline-ns enforces baseline and warns and audits restricted: privileged is found in each mode.
        Assert.Contains("skjold_admission_violations_total{check=\"pss/privileged\",mode=\"enforce\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("skjold_admission_violations_total{check=\"pss/privileged\",mode=\"warn\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("skjold_admission_violations_total{check=\"pss/runAsNonRoot\",mode=\"audit\"}", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("mode=\"deny\"}", metrics.Split('\n').Where(l => l.Contains("pss/", StringComparison.Ordinal)).FirstOrDefault() ?? string.Empty, StringComparison.Ordinal);
    }

    /// <summary>A stream HttpClient cannot measure, so it sends the body chunked.</summary>
    private sealed class UnseekableStream(byte[] data) : Stream
    {
        private readonly MemoryStream _inner = new(data);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 1000));

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
