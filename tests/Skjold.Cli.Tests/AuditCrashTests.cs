using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Skjold.Audit;
using Skjold.Audit.Signing;
using Skjold.Audit.Storage;
using Skjold.TestSupport;

namespace Skjold.Cli.Tests;

/// <summary>
/// Crash safety: `skjold audit serve` runs as its own process and receives batches under load; it
/// is killed with SIGKILL mid-load and restarted. Every batch it acknowledged with 200 must be in
/// the log afterwards, and the log must verify.
/// </summary>
public sealed class AuditCrashTests : IDisposable
{
    private const string Token = "crash-test-token-0123456789";
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-crash-").FullName;

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

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Sigkill_MidLoad_EveryAcknowledgedEventSurvives_AndLogVerifies(string backend)
    {
        var storeArgs = backend == "postgres" ? new[] { "--postgres", PostgresServer.Shared.CreateDatabase(), "--key-dir", _dir } : ["--data-dir", _dir];
        var init = CliRunner.Run(_dir, null, ["audit", "init", .. storeArgs]);
        Assert.True(init.ExitCode == 0, init.Error);
        await File.WriteAllTextAsync(Path.Combine(_dir, "token"), Token);

        var acknowledged = new ConcurrentBag<string>();
        var port = FreePort();
        using (var server = Start(port, storeArgs))
        {
            await WaitUntilListening(port);
            using var stop = new CancellationTokenSource();
            var senders = Enumerable.Range(0, 4).Select(s => Send(port, s, acknowledged, stop.Token)).ToList();
            // Kill mid-load: once more than 100 events are acknowledged (however long a loaded
            // machine takes to get there), while the senders keep sending.
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (acknowledged.Count <= 100 && waited.Elapsed < TimeSpan.FromSeconds(120))
            {
                await Task.Delay(50);
            }

            Assert.True(acknowledged.Count > 100, $"only {acknowledged.Count} events acknowledged in two minutes");
            server.Kill(); // SIGKILL: no shutdown, no flush.
            await server.WaitForExitAsync();
            await stop.CancelAsync();
            await Task.WhenAll(senders);
        }

        var countAtKill = acknowledged.Count;
        using (var server = Start(port, storeArgs))
        {
            await WaitUntilListening(port);
            using var stop = new CancellationTokenSource();
            var more = Send(port, 99, acknowledged, stop.Token);
            await Task.Delay(500);
            await stop.CancelAsync();
            await more;
            using var term = Process.Start("kill", ["-TERM", server.Id.ToString(CultureInfo.InvariantCulture)])!;
            await term.WaitForExitAsync();
            Assert.True(server.WaitForExit(30_000), "the server did not stop on SIGTERM");
        }

        IAuditStore store = backend == "postgres" ? new PostgresAuditStore(storeArgs[1]) : new SqliteAuditStore(_dir);
        await using (store)
        {
            var stored = new HashSet<string>();
            await foreach (var (r, _) in store.QueryAsync(new AuditQuery { Limit = 1_000_000 }, false, default))
            {
                stored.Add(r.AuditId!);
            }

            var lost = acknowledged.Where(a => !stored.Contains(a)).ToList();
            Assert.True(lost.Count == 0, $"{lost.Count} acknowledged events lost, e.g. {string.Join(", ", lost.Take(5))}");
            Assert.True(acknowledged.Count > countAtKill, "the restarted server accepted no more events");

            using var keys = AuditKeys.Load(_dir);
            using var verifier = new TreeHeadVerifier(keys.PublicKeyPem);
            var report = await AuditVerifier.VerifyStoreAsync(store, verifier, null, default);
            Assert.True(report.Ok, string.Join("; ", report.Problems));
            Assert.True(report.LeavesChecked >= acknowledged.Count);
        }
    }

    private Process Start(int port, string[] storeArgs)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "skjold.dll");
        var psi = new ProcessStartInfo("dotnet", [dll, "audit", "serve", "--listen", $"https://127.0.0.1:{port}", "--self-signed", "--token-file", Path.Combine(_dir, "token"), .. storeArgs])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _dir,
        };
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private static async Task Send(int port, int sender, ConcurrentBag<string> acknowledged, CancellationToken stop)
    {
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        using var client = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        var batch = 0;
        while (!stop.IsCancellationRequested)
        {
            var ids = Enumerable.Range(0, 20).Select(i => $"s{sender}-b{batch}-e{i}-{Guid.NewGuid():N}").ToList();
            batch++;
            var body = "{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"items\":[" + string.Join(",", ids.Select(Event)) + "]}";
            using var request = new HttpRequestMessage(HttpMethod.Post, "/audit") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            try
            {
                using var response = await client.SendAsync(request, CancellationToken.None);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    foreach (var id in ids)
                    {
                        acknowledged.Add(id);
                    }
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
            {
                // The server died mid-request: not acknowledged, so not expected to be stored.
                await Task.Delay(50, CancellationToken.None);
            }
        }
    }

    private static string Event(string id) =>
        $"{{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\",\"auditID\":\"{id}\",\"stage\":\"ResponseComplete\",\"requestURI\":\"/api/v1/pods\",\"verb\":\"list\",\"user\":{{\"username\":\"load\"}},\"objectRef\":{{\"resource\":\"pods\"}},\"responseStatus\":{{\"code\":200}},\"requestReceivedTimestamp\":\"2026-11-24T09:00:00Z\",\"stageTimestamp\":\"2026-11-24T09:00:00Z\"}}";

    private static async Task WaitUntilListening(int port)
    {
        for (var i = 0; i < 300; i++)
        {
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
}
