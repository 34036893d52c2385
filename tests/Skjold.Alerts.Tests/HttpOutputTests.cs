using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Skjold.Alerts.Outbox;
using Skjold.Alerts.Outputs;
using Skjold.Detection.Falco;
using Skjold.TestSupport;

namespace Skjold.Alerts.Tests;

/// <summary>The webhook shapes against Kestrel on loopback (HTTPS with a test CA), and Alertmanager's v2 API against a real Alertmanager.</summary>
public sealed class HttpOutputTests
{
    private static readonly AlertDispatcherOptions Options = new()
    {
        InitialBackoff = TimeSpan.FromMilliseconds(20),
        MaxBackoff = TimeSpan.FromMilliseconds(200),
        PollInterval = TimeSpan.FromMilliseconds(100),
    };

    private sealed class Receiver : IAsyncDisposable
    {
        private readonly WebApplication _app;

        public Receiver(TestCertificates certs, Func<HttpContext, Task> handle)
        {
            var b = WebApplication.CreateSlimBuilder();
            b.Logging.ClearProviders();
            var cert = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(certs.CertFile, certs.KeyFile);
            b.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l =>
            {
                l.Protocols = HttpProtocols.Http1AndHttp2;
                l.UseHttps(cert);
            }));
            _app = b.Build();
            _app.Run(new RequestDelegate(handle));
            _app.StartAsync().GetAwaiter().GetResult();
            Url = new Uri(_app.Urls.First().Replace("127.0.0.1", "localhost", StringComparison.Ordinal));
        }

        public Uri Url { get; }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }

    [Fact]
    public async Task JsonWebhook_WithBearerToken_RetriedAfter503_InOrder()
    {
        var certs = TestCertificates.Create(Path.Combine(Path.GetTempPath(), "skjold-wh-" + Guid.NewGuid().ToString("N")[..8]));
        var bodies = new ConcurrentQueue<JsonDocument>();
        var calls = 0;
        string? auth = null;
        await using var receiver = new Receiver(certs, async ctx =>
        {
            if (Interlocked.Increment(ref calls) <= 2)
            {
                ctx.Response.StatusCode = 503;
                return;
            }

            auth = ctx.Request.Headers.Authorization;
            bodies.Enqueue(await JsonDocument.ParseAsync(ctx.Request.Body));
            ctx.Response.StatusCode = 202;
        });
        await using var box = AlertOutbox.Sqlite(TestAlerts.TempFile(AlertOutbox.FileName));
        var hook = new WebhookOutput("hook", new HttpOutputSettings { Url = new Uri(receiver.Url, "/alerts"), Token = "s3cret-token", TrustedCas = [certs.Ca] });
        await using var d = new AlertDispatcher(box, [new(hook, BatchSize: 10)], NullLogger.Instance, options: Options);
        await d.StartAsync();
        var alerts = Enumerable.Range(0, 35).Select(i => TestAlerts.Make(i)).ToList();
        await d.EnqueueAsync(alerts);
        await TestAlerts.Eventually(() => d.Stats["hook"].Delivered == 35, "delivery");
        Assert.Equal("Bearer s3cret-token", auth);
        Assert.Equal(2, d.Stats["hook"].Failures);
        Assert.Contains("503", d.Stats["hook"].LastError, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", d.Stats["hook"].LastError, StringComparison.Ordinal);
        var received = bodies.SelectMany(b => b.RootElement.GetProperty("alerts").EnumerateArray()).ToList();
        Assert.Equal(alerts.Select(a => a.Id), received.Select(a => a.GetProperty("id").GetString()));
        Assert.Equal("Warning", received[0].GetProperty("priority").GetString());
        Assert.Equal("alice", received[0].GetProperty("fields").GetProperty("user").GetString());
        Assert.Equal(4, bodies.Count); // batches of 10
    }

    [Fact]
    public async Task SplunkHec_OneEventObjectPerAlert_WithSplunkToken()
    {
        var certs = TestCertificates.Create(Path.Combine(Path.GetTempPath(), "skjold-hec-" + Guid.NewGuid().ToString("N")[..8]));
        var events = new ConcurrentQueue<JsonElement>();
        string? auth = null;
        string? path = null;
        await using var receiver = new Receiver(certs, async ctx =>
        {
            auth = ctx.Request.Headers.Authorization;
            path = ctx.Request.Path;
            using var reader = new StreamReader(ctx.Request.Body);
            var text = await reader.ReadToEndAsync();
            foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                events.Enqueue(JsonDocument.Parse(line).RootElement.Clone()); // HEC's batch: event objects one after another
            }

            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync("{\"text\":\"Success\",\"code\":0}");
        });
        await using var box = AlertOutbox.Sqlite(TestAlerts.TempFile(AlertOutbox.FileName));
        var hec = new WebhookOutput("hec", new HttpOutputSettings
        {
            Url = new Uri(receiver.Url, "/services/collector/event"),
            Token = "11111111-2222-3333-4444-555555555555",
            TrustedCas = [certs.Ca],
            Shape = WebhookShape.SplunkHec,
            Index = "k8s_security",
            Hostname = "skjold-0",
        });
        await using var d = new AlertDispatcher(box, [new(hec)], NullLogger.Instance, options: Options);
        await d.StartAsync();
        var alerts = Enumerable.Range(0, 5).Select(i => TestAlerts.Make(i)).ToList();
        await d.EnqueueAsync(alerts);
        await TestAlerts.Eventually(() => events.Count == 5, $"five HEC events ({events.Count} so far; {d.Stats["hec"].LastError})", 20);
        Assert.Equal("Splunk 11111111-2222-3333-4444-555555555555", auth);
        Assert.Equal("/services/collector/event", path);
        var e = events.First();
        Assert.Equal("skjold:alert", e.GetProperty("sourcetype").GetString());
        Assert.Equal("k8s_security", e.GetProperty("index").GetString());
        Assert.Equal("skjold-0", e.GetProperty("host").GetString());
        Assert.Equal(alerts[0].Time.ToUnixTimeMilliseconds() / 1000.0, e.GetProperty("time").GetDouble(), 3);
        Assert.Equal(alerts.Select(a => a.Id), events.Select(x => x.GetProperty("event").GetProperty("id").GetString()));
    }

    [Fact]
    public async Task Webhook_DoesNotFollowRedirects_OrTrustAnotherCa()
    {
        var certs = TestCertificates.Create(Path.Combine(Path.GetTempPath(), "skjold-rd-" + Guid.NewGuid().ToString("N")[..8]));
        var other = TestCertificates.Create(Path.Combine(Path.GetTempPath(), "skjold-rd2-" + Guid.NewGuid().ToString("N")[..8]));
        var hits = 0;
        await using var receiver = new Receiver(certs, ctx =>
        {
            Interlocked.Increment(ref hits);
            ctx.Response.Redirect("https://attacker.example/steal");
            return Task.CompletedTask;
        });
        await using var box = AlertOutbox.Sqlite(TestAlerts.TempFile(AlertOutbox.FileName));
        var redirected = new WebhookOutput("redirected", new HttpOutputSettings { Url = receiver.Url, Token = "t", TrustedCas = [certs.Ca] });
        var untrusted = new WebhookOutput("untrusted", new HttpOutputSettings { Url = receiver.Url, Token = "t", TrustedCas = [other.Ca] });
        await using var d = new AlertDispatcher(box, [new(redirected), new(untrusted)], NullLogger.Instance, options: Options);
        await d.StartAsync();
        await d.EnqueueAsync([TestAlerts.Make(1)]);
        await TestAlerts.Eventually(() => d.Stats["redirected"].Failures >= 2 && d.Stats["untrusted"].Failures >= 2, "failures");
        Assert.Contains("302", d.Stats["redirected"].LastError, StringComparison.Ordinal);
        Assert.Equal(0, d.Stats["untrusted"].Delivered);
        Assert.Equal(1, await box.DepthAsync("redirected"));
    }

    [Fact]
    public async Task Alertmanager_ReceivesEveryAlertWithItsLabels_AndARedeliveryIsTheSameAlert()
    {
        using var am = new Alertmanager();
        await using var box = AlertOutbox.Sqlite(TestAlerts.TempFile(AlertOutbox.FileName));
        var settings = new HttpOutputSettings { Url = am.Url, ResolveAfter = TimeSpan.FromHours(1) };
        var alerts = Enumerable.Range(0, 20).Select(i => TestAlerts.Make(i, priority: i % 2 == 0 ? FalcoPriority.Critical : FalcoPriority.Notice) with { Time = DateTimeOffset.UtcNow }).ToList();
        await using (var d = new AlertDispatcher(box, [new(new AlertmanagerOutput("am", settings))], NullLogger.Instance, options: Options))
        {
            await d.StartAsync();
            await d.EnqueueAsync(alerts);
            await TestAlerts.Eventually(() => d.Stats["am"].Delivered == 20, "delivery");
        }

        // The same alerts sent again through a fresh outbox (as after losing the outbox): Alertmanager keeps one of each.
        await using var box2 = AlertOutbox.Sqlite(TestAlerts.TempFile(AlertOutbox.FileName));
        await using (var d2 = new AlertDispatcher(box2, [new(new AlertmanagerOutput("am", settings))], NullLogger.Instance, options: Options))
        {
            await d2.StartAsync();
            await d2.EnqueueAsync(alerts.Take(5).ToList());
            await TestAlerts.Eventually(() => d2.Stats["am"].Delivered == 5, "redelivery");
        }

        using var http = new HttpClient();
        JsonElement[] got = [];
        await TestAlerts.Eventually(async () =>
        {
            var json = await http.GetStringAsync(new Uri(am.Url, "api/v2/alerts?filter=generator%3D%22skjold%22"));
            got = [.. JsonDocument.Parse(json).RootElement.EnumerateArray()];
            return got.Length >= 20;
        }, "the alerts in Alertmanager");
        Assert.Equal(20, got.Length);
        Assert.Equal(alerts.Select(a => a.Id).Order(), got.Select(g => g.GetProperty("labels").GetProperty("alert_id").GetString()).Order());
        var one = got.Single(g => g.GetProperty("labels").GetProperty("alert_id").GetString() == alerts[2].Id);
        Assert.Equal("Exec into pod", one.GetProperty("labels").GetProperty("alertname").GetString());
        Assert.Equal("critical", one.GetProperty("labels").GetProperty("severity").GetString());
        Assert.Equal("shop", one.GetProperty("labels").GetProperty("namespace").GetString());
        Assert.Equal(alerts[2].Output, one.GetProperty("annotations").GetProperty("summary").GetString());
        Assert.Equal("active", one.GetProperty("status").GetProperty("state").GetString());
    }
}
