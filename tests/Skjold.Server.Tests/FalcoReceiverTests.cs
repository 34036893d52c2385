using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Skjold.Alerts;
using Skjold.Alerts.Configuration;
using Skjold.Alerts.Outputs;
using Skjold.Audit;
using Skjold.Audit.Signing;
using Skjold.Audit.Storage;
using Skjold.Detection.Falco;
using Skjold.Engine.Policy;
using Skjold.Kubernetes.Watch;
using Skjold.Server.AuditReceiver;
using Skjold.Server.Detection;
using Skjold.Server.Hosting;
using Skjold.Server.Tls;

namespace Skjold.Server.Tests;

/// <summary>POST /falco over HTTPS on loopback: Falco's http_output body sealed into a real SQLite trail and queued for an output.</summary>
public sealed class FalcoReceiverTests : IAsyncLifetime
{
    private const string AuditToken = "audit-token-0123456789abcdef";
    private const string FalcoToken = "falco-token-0123456789abcdef";

    // What Falco's http_output posts (json_output: true, json_include_output_property/tags_property: true).
    private const string FalcoBody = """
        {"uuid":"7f3c2b1a-1d2e-4f5a-8b9c-0a1b2c3d4e5f","output":"15:31:56.746609046: Error File below a known binary directory opened for writing (user=root command=touch /bin/hack file=/bin/hack container_id=a0f5d8c4a8a0 image=nginx)",
         "priority":"Error","rule":"Write below binary dir","time":"2026-12-02T15:31:56.746609046Z","source":"syscall","tags":["filesystem","mitre_persistence"],"hostname":"node-1",
         "output_fields":{"container.id":"a0f5d8c4a8a0","container.image.repository":"nginx","evt.time":1764689516746609046,"fd.name":"/bin/hack","k8s.ns.name":"shop","k8s.pod.name":"web-7d9","proc.cmdline":"touch /bin/hack","proc.name":"touch","user.name":"root"}}
        """;

    private string _dir = null!;
    private AuditKeys _keys = null!;
    private SqliteAuditStore _store = null!;
    private AuditLog _log = null!;
    private DetectionPipeline _pipeline = null!;
    private WebApplication _app = null!;
    private HttpClient _client = null!;
    private readonly CapturingOutput _output = new();

    private sealed class CapturingOutput : IAlertOutput
    {
        public List<Alert> Alerts { get; } = [];

        public string Name => "capture";

        public ValueTask<long> SendAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken cancellationToken)
        {
            lock (Alerts)
            {
                Alerts.AddRange(entries.Select(e => e.Alert));
            }

            return ValueTask.FromResult(entries[^1].Seq);
        }

        public ValueTask<long> ConfirmAsync(CancellationToken cancellationToken) => ValueTask.FromResult(0L);

        public ValueTask ResetAsync() => ValueTask.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    public async Task InitializeAsync()
    {
        _dir = Directory.CreateTempSubdirectory("skjold-falco-").FullName;
        _keys = AuditKeys.Create(_dir);
        _store = new SqliteAuditStore(_dir);
        await _store.InitializeAsync(default);
        _log = new AuditLog(_store, _keys);
        await _log.StartAsync(default);
        var outputs = new[] { new OutputDefinition("capture", "test", "memory", FalcoPriority.Debug, null, 100, _ => _output) };
        _pipeline = await DetectionPipeline.StartAsync(_log, new AuditStoreLocation { DataDirectory = _dir }, null, outputs, NullLoggerFactory.Instance,
            options: new AlertDispatcherOptions { PollInterval = TimeSpan.FromMilliseconds(50) });
        var certs = SelfSignedCertificates.Create("skjold", "skjold-system", TimeProvider.System);
        var options = new ServeOptions { Listen = new Uri("https://127.0.0.1:0"), Certificate = ServerCertificate.FromCertificate(certs.Server, NullLogger.Instance), EnableAdmission = false };
        _app = ServerHost.Build(options, ScanPolicy.Default, _ => new FileNamespaceCache(), logging: b => b.SetMinimumLevel(LogLevel.Error),
            audit: _log, auditOptions: new AuditReceiverOptions { Token = AuditToken }, detection: _pipeline,
            falco: new FalcoReceiverOptions { Token = FalcoToken, MaxBodyBytes = 64 * 1024 });
        await _app.StartAsync();
        _client = new HttpClient(WebhookServer.TrustingHandler(certs.CaPem)) { BaseAddress = ServerHost.BoundAddress(_app) };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _pipeline.DisposeAsync();
        await _log.DisposeAsync();
        await _store.DisposeAsync();
        _keys.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, true);
    }

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string body, string? token = FalcoToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/falco") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await _client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<List<string>> SealedAsync()
    {
        var list = new List<string>();
        await foreach (var (_, payload) in _store.QueryAsync(new AuditQuery { Verbs = [FalcoReceiverHandler.AlertVerb], Limit = 100 }, true, default))
        {
            list.Add(Encoding.UTF8.GetString(payload!));
        }

        return list;
    }

    [Fact]
    public async Task FalcoAlert_IsSealedWithItsLinks_AndForwarded()
    {
        var (status, _) = await PostAsync(FalcoBody);
        Assert.Equal(HttpStatusCode.OK, status);
        var sealedAlert = Assert.Single(await SealedAsync());
        Assert.Contains("\"skjold.io/rule\":\"Write below binary dir\"", sealedAlert, StringComparison.Ordinal);
        Assert.Contains("\"skjold.io/falco-pod\":\"web-7d9\"", sealedAlert, StringComparison.Ordinal);
        Assert.Contains("\"skjold.io/falco-namespace\":\"shop\"", sealedAlert, StringComparison.Ordinal);
        Assert.Contains("\"skjold.io/falco-node\":\"node-1\"", sealedAlert, StringComparison.Ordinal);
        Assert.Contains("\"skjold.io/alert-id\":\"", sealedAlert, StringComparison.Ordinal);

        for (var i = 0; i < 200 && _output.Alerts.Count == 0; i++)
        {
            await Task.Delay(25);
        }

        var forwarded = Assert.Single(_output.Alerts);
        Assert.Equal("Write below binary dir", forwarded.Rule);
        Assert.Equal(FalcoPriority.Error, forwarded.Priority);
        Assert.Equal("syscall", forwarded.Source);
        Assert.Equal(new DateTimeOffset(2026, 12, 2, 15, 31, 56, TimeSpan.Zero).AddTicks(7466090), forwarded.Time);
        Assert.Equal("web-7d9", forwarded.Fields["pod"]);
        Assert.Equal("a0f5d8c4a8a0", forwarded.Fields["container"]);
        Assert.Single(forwarded.Leaves);
        Assert.Contains(forwarded.Id, sealedAlert, StringComparison.Ordinal);
        Assert.Equal(1, _pipeline.Raised[("Write below binary dir", FalcoPriority.Error)]);

        // Falco retries a post it thinks failed: the same uuid is the same alert for the outputs.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(FalcoBody)).Status);
        await Task.Delay(300);
        Assert.Single(_output.Alerts);
    }

    [Fact]
    public async Task AnArrayOfAlerts_IsSealedWhole()
    {
        var second = FalcoBody.Replace("7f3c2b1a", "8f3c2b1a", StringComparison.Ordinal).Replace("Write below binary dir", "Terminal shell in container", StringComparison.Ordinal);
        var (status, body) = await PostAsync($"[{FalcoBody},{second}]");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("sealed 2", body, StringComparison.Ordinal);
        Assert.Equal(2, (await SealedAsync()).Count);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-token-0123456789abcdef")]
    [InlineData(AuditToken)] // the API server's credential does not open /falco
    public async Task WithoutTheFalcoToken_401_NothingSealed(string? token)
    {
        var (status, _) = await PostAsync(FalcoBody, token);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Empty(await SealedAsync());
    }

    [Theory]
    [InlineData("{not json", "not JSON")]
    [InlineData("42", "expected a Falco alert object")]
    [InlineData("[]", "expected a Falco alert object")]
    [InlineData("""{"output":"x","priority":"Error","time":"2026-12-02T15:31:56Z"}""", "'rule' is missing")]
    [InlineData("""{"rule":"r","output":"x","priority":"Loud","time":"2026-12-02T15:31:56Z"}""", "'priority' must be one of")]
    [InlineData("""{"rule":"r","output":"x","priority":"3","time":"2026-12-02T15:31:56Z"}""", "'priority' must be one of")]
    [InlineData("""{"rule":"r","output":"x","priority":"Error","time":"yesterday"}""", "'time' must be an RFC 3339 time")]
    [InlineData("""{"rule":"r","output":"x","priority":"Error","time":"2026-12-02T15:31:56Z","tags":"k8s"}""", "'tags' must be a list of strings")]
    [InlineData("""{"rule":"r","output":"x","priority":"Error","time":"2026-12-02T15:31:56Z","output_fields":[1]}""", "'output_fields' must be an object")]
    public async Task MalformedBodies_Get400SayingWhat_NothingSealed(string body, string expected)
    {
        var (status, text) = await PostAsync(body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(expected, text, StringComparison.Ordinal);
        Assert.Empty(await SealedAsync());
    }

    [Fact]
    public async Task OneBadAlertInAnArray_RefusesTheWholeBody()
    {
        var (status, text) = await PostAsync($$"""[{{FalcoBody}},{"rule":"r"}]""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("alert 1:", text, StringComparison.Ordinal);
        Assert.Empty(await SealedAsync());
    }

    [Fact]
    public async Task OversizedBody_413()
    {
        var big = FalcoBody.Replace("touch /bin/hack", new string('a', 70_000), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await PostAsync(big)).Status);
        Assert.Empty(await SealedAsync());
    }

    [Fact]
    public void FalcoEndpoint_WithoutTheTrail_IsAConfigurationError()
    {
        var certs = SelfSignedCertificates.Create("skjold", "skjold-system", TimeProvider.System);
        var options = new ServeOptions { Listen = new Uri("https://127.0.0.1:0"), Certificate = ServerCertificate.FromCertificate(certs.Server, NullLogger.Instance) };
        var ex = Assert.Throws<ArgumentException>(() => ServerHost.Build(options, ScanPolicy.Default, _ => new FileNamespaceCache(), falco: new FalcoReceiverOptions { Token = FalcoToken }));
        Assert.Equal("Falco", ex.ParamName);
        var weak = Assert.Throws<ArgumentException>(() => new FalcoReceiverOptions { Token = "short" }.Validate());
        Assert.Equal("FalcoToken", weak.ParamName);
    }
}
