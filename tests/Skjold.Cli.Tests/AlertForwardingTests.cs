using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Skjold.TestSupport;

namespace Skjold.Cli.Tests;

/// <summary>
/// End to end, as a platform team runs it: `skjold audit serve` with Falco rules and the outputs: of
/// skjold.yaml, a real rsyslog (TLS) and a real Alertmanager. Alerts raised while the SIEM is down
/// wait in the outbox and are delivered after the receiver is back and Skjold restarted; ingestion
/// is never refused meanwhile.
/// </summary>
[Collection("rsyslog")]
public sealed partial class AlertForwardingTests : IDisposable
{
    private const string Token = "alert-forwarding-token-0123456789";
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-fwd-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task AuditServe_DetectsSealsAndForwards_ToRsyslogAndAlertmanager_AcrossAnOutage()
    {
        using var rsyslog = new Rsyslog();
        using var am = new Alertmanager();
        rsyslog.Stop(); // the SIEM's collector is down when Skjold starts
        Assert.Equal(0, CliRunner.Run(_dir, null, ["audit", "init", "--data-dir", "trail"]).ExitCode);
        await File.WriteAllTextAsync(Path.Combine(_dir, "token"), Token);
        await File.WriteAllTextAsync(Path.Combine(_dir, "rules.yaml"), """
            - rule: Secret read by a person
              desc: a human identity read a Secret
              condition: ka.target.resource = secrets and ka.verb in (get, list) and not ka.user.name startswith "system:"
              output: "%ka.user.name read secret %ka.target.namespace/%ka.target.name"
              priority: ERROR
              source: k8s_audit
              tags: [k8s, mitre_credential_access]
            """);
        await File.WriteAllTextAsync(Path.Combine(_dir, "skjold.yaml"), $"""
            outputs:
              - name: siem
                type: syslog
                address: 127.0.0.1:{rsyslog.TlsPort}
                serverName: localhost
                caFile: {rsyslog.Certificates.CaFile}
                confirmAfter: 500ms
              - name: am
                type: alertmanager
                url: {am.Url}
            """);

        var port = FreePort();
        string[] serve = ["audit", "serve", "--listen", $"https://127.0.0.1:{port}", "--self-signed", "--token-file", "token", "--data-dir", "trail", "--detect-rules", "rules.yaml", "--config", "skjold.yaml"];
        using (var server = Start(serve))
        {
            await WaitUntilListening(port, server);
            Assert.Equal(HttpStatusCode.OK, await Post(port, [Event("e1", "mallory", "get", "secrets", "db-pass"), Event("e2", "mallory", "list", "pods", null)]));
            Assert.Equal(HttpStatusCode.OK, await Post(port, [Event("e3", "system:kube-controller-manager", "get", "secrets", "sa-token"), Event("e4", "bob", "get", "secrets", "tls")]));
            await Eventually(async () => (await Alerts(am)).Length == 2, "two alerts in Alertmanager");
            var metrics = await Metrics(port);
            Assert.Contains("skjold_alerts_total{rule=\"Secret read by a person\",priority=\"ERROR\"} 2", metrics, StringComparison.Ordinal);
            Assert.Matches(@"skjold_alert_queue_depth\{output=""siem""\} 2", metrics); // waiting for the SIEM
            Assert.Matches(@"skjold_alert_delivery_failures_total\{output=""siem""\} [1-9]", metrics);
            Assert.Matches(@"skjold_alert_deliveries_total\{output=""am""\} 2", metrics);
            await Stop(server);
        }

        Assert.Empty(rsyslog.Lines());
        rsyslog.Start();
        using (var server = Start(serve))
        {
            await WaitUntilListening(port, server);
            await Eventually(() => Task.FromResult(rsyslog.Lines().Count >= 2), "the queued alerts in rsyslog");
            Assert.Equal(HttpStatusCode.OK, await Post(port, [Event("e5", "eve", "get", "secrets", "api-key")]));
            await Eventually(() => Task.FromResult(rsyslog.Lines().Count >= 3), "the new alert in rsyslog");
            await Stop(server);
        }

        var lines = rsyslog.Lines();
        var ids = lines.Select(l => IdPattern().Match(l).Groups[1].Value).ToHashSet();
        Assert.Equal(3, ids.Count);
        Assert.Contains(lines, l => l.Contains("mallory read secret shop/db-pass", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("kube-controller-manager", StringComparison.Ordinal));

        // Every forwarded alert is sealed in the trail under the same id.
        var sealedPayloads = new List<string>();
        await using (var store = new Skjold.Audit.Storage.SqliteAuditStore(Path.Combine(_dir, "trail")))
        {
            await foreach (var (_, payload) in store.QueryAsync(new Skjold.Audit.Storage.AuditQuery { Verbs = ["detection-alert"], Limit = 100 }, true, default))
            {
                sealedPayloads.Add(Encoding.UTF8.GetString(payload!));
            }
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Assert.Equal(3, sealedPayloads.Count);
        Assert.All(ids, id => Assert.Single(sealedPayloads, p => p.Contains($"\"skjold.io/alert-id\":\"{id}\"", StringComparison.Ordinal)));

        Assert.Equal(0, CliRunner.Run(_dir, null, ["audit", "verify", "--data-dir", "trail"]).ExitCode);
    }

    [Fact]
    public async Task Serve_ExecIntoNamespaceLabelledProduction_SealedWithLabelsFromTheAdmissionCache()
    {
        Assert.Equal(0, CliRunner.Run(_dir, null, ["audit", "init", "--data-dir", "trail"]).ExitCode);
        await File.WriteAllTextAsync(Path.Combine(_dir, "token"), Token);
        await File.WriteAllTextAsync(Path.Combine(_dir, "skjold.yaml"), "detection:\n  productionLabels: {environment: production}\n");
        await File.WriteAllTextAsync(Path.Combine(_dir, "namespaces.yaml"), """
            apiVersion: v1
            kind: List
            items:
            - {apiVersion: v1, kind: Namespace, metadata: {name: payments, labels: {environment: production}}}
            - {apiVersion: v1, kind: Namespace, metadata: {name: staging, labels: {environment: staging}}}
            """);
        static string Exec(string ns) =>
            $"{{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\",\"auditID\":\"exec-{ns}-{Guid.NewGuid():N}\",\"stage\":\"ResponseComplete\",\"requestURI\":\"/api/v1/namespaces/{ns}/pods/web/exec\",\"verb\":\"create\",\"user\":{{\"username\":\"mallory\"}},\"sourceIPs\":[\"10.1.2.3\"],\"objectRef\":{{\"resource\":\"pods\",\"subresource\":\"exec\",\"namespace\":\"{ns}\",\"name\":\"web\",\"apiVersion\":\"v1\"}},\"responseStatus\":{{\"code\":101}},\"requestReceivedTimestamp\":\"{DateTimeOffset.UtcNow:O}\",\"stageTimestamp\":\"{DateTimeOffset.UtcNow:O}\"}}";

        var port = FreePort();
        using (var server = Start(["serve", "--listen", $"https://127.0.0.1:{port}", "--self-signed", "--namespaces-file", "namespaces.yaml", "--config", "skjold.yaml",
            "--audit-data-dir", "trail", "--audit-token-file", "token"]))
        {
            await WaitUntilListening(port, server);
            Assert.Equal(HttpStatusCode.OK, await Post(port, [Exec("payments"), Exec("staging")]));
            await Eventually(async () => (await Metrics(port)).Contains("skjold_alerts_total{rule=\"Skjold exec into production\"", StringComparison.Ordinal), "the exec alert");
            await Stop(server);
        }

        var sealedPayloads = new List<string>();
        await using (var store = new Skjold.Audit.Storage.SqliteAuditStore(Path.Combine(_dir, "trail")))
        {
            await foreach (var (_, payload) in store.QueryAsync(new Skjold.Audit.Storage.AuditQuery { Verbs = ["detection-alert"], Limit = 100 }, true, default))
            {
                sealedPayloads.Add(Encoding.UTF8.GetString(payload!));
            }
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var alert = Assert.Single(sealedPayloads, p => p.Contains("Skjold exec into production", StringComparison.Ordinal));
        Assert.Contains("payments/web", alert, StringComparison.Ordinal);
        Assert.DoesNotContain(sealedPayloads, p => p.Contains("staging/web", StringComparison.Ordinal));
    }

    private Process Start(string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "skjold.dll");
        var psi = new ProcessStartInfo("dotnet", [dll, .. args]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _dir };
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private static async Task Stop(Process server)
    {
        using var term = Process.Start("kill", ["-TERM", server.Id.ToString(CultureInfo.InvariantCulture)])!;
        await term.WaitForExitAsync();
        Assert.True(server.WaitForExit(30_000), "the server did not stop on SIGTERM");
    }

    private static HttpClient Client(int port) => new(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true })
    {
        BaseAddress = new Uri($"https://127.0.0.1:{port}"),
        Timeout = TimeSpan.FromSeconds(20),
    };

    private static async Task<HttpStatusCode> Post(int port, string[] events)
    {
        using var client = Client(port);
        var body = "{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"items\":[" + string.Join(",", events) + "]}";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/audit") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task<string> Metrics(int port)
    {
        using var client = Client(port);
        return await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
    }

    private static async Task<JsonElement[]> Alerts(Alertmanager am)
    {
        using var http = new HttpClient();
        var json = await http.GetStringAsync(new Uri(am.Url, "api/v2/alerts?filter=generator%3D%22skjold%22"));
        return [.. JsonDocument.Parse(json).RootElement.EnumerateArray()];
    }

    private static string Event(string id, string user, string verb, string resource, string? name) =>
        $"{{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\",\"auditID\":\"{id}-{Guid.NewGuid():N}\",\"stage\":\"ResponseComplete\",\"requestURI\":\"/api/v1/namespaces/shop/{resource}\",\"verb\":\"{verb}\",\"user\":{{\"username\":\"{user}\"}},\"sourceIPs\":[\"10.1.2.3\"],\"objectRef\":{{\"resource\":\"{resource}\",\"namespace\":\"shop\"{(name is null ? "" : $",\"name\":\"{name}\"")},\"apiVersion\":\"v1\"}},\"responseStatus\":{{\"code\":200}},\"requestReceivedTimestamp\":\"{DateTimeOffset.UtcNow:O}\",\"stageTimestamp\":\"{DateTimeOffset.UtcNow:O}\"}}";

    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(100);
        }
    }

    private static async Task WaitUntilListening(int port, Process server)
    {
        for (var i = 0; i < 300; i++)
        {
            Assert.False(server.HasExited, "skjold audit serve exited");
            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        throw new InvalidOperationException("skjold audit serve did not start");
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    [GeneratedRegex(" id=\"([0-9a-f]{32})\"")]
    private static partial Regex IdPattern();
}
