using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;

namespace Skjold.Benchmarks;

/// <summary>
/// Load generator for `skjold serve`: starts the server as a separate process (self-signed TLS,
/// namespaces from a file, /noop enabled), then sends Pod CREATE AdmissionReviews over HTTPS with
/// keep-alive at fixed rates, to /validate and to /noop (the floor: same server, same TLS, same
/// parsing, no evaluation), alternating, and reports p50, p99 and max latency per rate.
/// </summary>
internal static class WebhookLoad
{
    internal const string ReviewJson = """
        {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"UID","kind":{"group":"","version":"v1","kind":"Pod"},
        "resource":{"group":"","version":"v1","resource":"pods"},"namespace":"payments","operation":"CREATE",
        "userInfo":{"username":"system:serviceaccount:kube-system:replicaset-controller","groups":["system:serviceaccounts"]},
        "object":{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"checkout-7d9f-","namespace":"payments","labels":{"app":"checkout"}},
        "spec":{"serviceAccountName":"checkout","automountServiceAccountToken":false,
        "securityContext":{"runAsNonRoot":true,"runAsUser":10001,"seccompProfile":{"type":"RuntimeDefault"}},
        "containers":[{"name":"app","image":"registry.example.com/shop/checkout:3.2.1","ports":[{"name":"http","containerPort":8080}],
        "env":[{"name":"LOG_LEVEL","value":"info"}],"resources":{"requests":{"cpu":"200m","memory":"256Mi"},"limits":{"memory":"512Mi"}},
        "livenessProbe":{"httpGet":{"path":"/healthz","port":"http"}},"readinessProbe":{"httpGet":{"path":"/readyz","port":"http"}},
        "securityContext":{"allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true,"capabilities":{"drop":["ALL"]}}},
        {"name":"proxy","image":"registry.example.com/mesh/proxy:1.21.0","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}}}
        """;

    /// <param name="binary">The skjold binary to serve with (the AOT build users install); null: the JIT build's skjold.dll.</param>
    public static async Task<int> RunAsync(int[] rates, TimeSpan duration, string? binary = null)
    {
        var root = Directory.CreateTempSubdirectory("skjold-load-").FullName;
        var nsFile = Path.Combine(root, "ns.yaml");
        await File.WriteAllTextAsync(nsFile, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: payments\n  labels: {pod-security.kubernetes.io/enforce: restricted}\n");
        var port = FreePort();
        var cli = binary ?? Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "src", "Skjold.Cli", "bin", "Release", "net10.0", "skjold.dll");
        if (!File.Exists(cli))
        {
            Console.Error.WriteLine(binary is null
                ? $"Build the CLI first: dotnet build -c Release src/Skjold.Cli (looked for {Path.GetFullPath(cli)})"
                : $"no such binary: {binary}");
            return 2;
        }

        string[] serve = ["serve", "--self-signed", "--listen", $"https://127.0.0.1:{port}", "--namespaces-file", nsFile, "--enable-noop"];
        var psi = cli.EndsWith(".dll", StringComparison.Ordinal)
            ? new ProcessStartInfo("dotnet", [Path.GetFullPath(cli), .. serve])
            : new ProcessStartInfo(Path.GetFullPath(cli), serve);
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        Console.WriteLine($"serving with {Path.GetFullPath(cli)}");
        using var server = Process.Start(psi)!;
        var drain = Task.Run(async () =>
        {
            while (await server.StandardOutput.ReadLineAsync() is not null)
            {
            }
        });
        // stderr too: an undrained pipe would block the server once 64 KiB of it were written.
        var drainErrors = Task.Run(async () =>
        {
            while (await server.StandardError.ReadLineAsync() is not null)
            {
            }
        });
        try
        {
            using var handler = new SocketsHttpHandler
            {
                SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
                MaxConnectionsPerServer = 64,
                PooledConnectionLifetime = TimeSpan.FromMinutes(10),
                EnableMultipleHttp2Connections = false,
            };
            using var client = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{port}"), DefaultRequestVersion = HttpVersion.Version11 };
            await WaitReady(client);
            Console.WriteLine($"skjold serve pid {server.Id} on port {port}; {Environment.ProcessorCount} cores shared by server and load generator; {duration.TotalSeconds:0} s per run after 3 s warm-up");
            Console.WriteLine();
            Console.WriteLine($"Each cell: median over {Repetitions} runs of floor and evaluation, alternating; max is the largest seen.");
            Console.WriteLine();
            Console.WriteLine("| rate (req/s) | endpoint | achieved req/s | p50 (ms) | p99 (ms) | max (ms) | errors | p99 vs floor |");
            Console.WriteLine("|---:|---|---:|---:|---:|---:|---:|---:|");
            foreach (var rate in rates)
            {
                // Warm both paths, then measure floor and evaluation alternately.
                await Drive(client, "/noop", rate, TimeSpan.FromSeconds(3));
                await Drive(client, "/validate", rate, TimeSpan.FromSeconds(3));
                var runs = new Dictionary<string, List<Result>> { ["/noop"] = [], ["/validate"] = [] };
                for (var rep = 0; rep < Repetitions; rep++)
                {
                    foreach (var endpoint in rep % 2 == 0 ? new[] { "/noop", "/validate" } : ["/validate", "/noop"])
                    {
                        runs[endpoint].Add(await Drive(client, endpoint, rate, duration));
                    }
                }

                var floorP99 = Median(runs["/noop"].Select(r => r.P99));
                foreach (var (endpoint, list) in runs)
                {
                    var p99 = Median(list.Select(r => r.P99));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {rate} | {endpoint} | {Median(list.Select(r => r.Achieved)):F0} | {Median(list.Select(r => r.P50)):F3} | {p99:F3} | {list.Max(r => r.Max):F3} | {list.Sum(r => r.Errors)} | {(endpoint == "/noop" ? "floor" : $"{(p99 / floorP99 - 1) * 100:+0;-0}%")} |"));
                }
            }

            return 0;
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
            await drain;
            await drainErrors;
            Directory.Delete(root, true);
        }
    }

    private const int Repetitions = 3;

    internal sealed record Result(double Achieved, double P50, double P99, double Max, int Errors);

    internal static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[(v.Length / 2) - 1] + v[v.Length / 2]) / 2;
    }

    internal static Task<Result> Drive(HttpClient client, string endpoint, int rate, TimeSpan duration) => Drive(client, endpoint, rate, duration, ReviewJson);

    /// <summary>Sends <paramref name="review"/> (with UID replaced per request) at a fixed rate; latencies from send to the full response.</summary>
    internal static async Task<Result> Drive(HttpClient client, string endpoint, int rate, TimeSpan duration, string review)
    {
        var latencies = new ConcurrentBag<double>();
        var errors = 0;
        var pending = new List<Task>(rate * (int)duration.TotalSeconds + 16);
        var interval = 1.0 / rate;
        var total = (int)(rate * duration.TotalSeconds);
        var sw = Stopwatch.StartNew();
        var sent = 0;
        var pacer = new Thread(() =>
        {
            while (sent < total)
            {
                var due = (int)Math.Min(total, (sw.Elapsed.TotalSeconds / interval) + 1);
                while (sent < due)
                {
                    var uid = sent;
                    pending.Add(Send(uid));
                    sent++;
                }

                Thread.Sleep(1);
            }
        }) { IsBackground = true, Priority = ThreadPriority.AboveNormal };

        async Task Send(int uid)
        {
            var body = review.Replace("UID", "load-" + uid.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
            var start = Stopwatch.GetTimestamp();
            try
            {
                using var content = new StringContent(body, Encoding.UTF8, "application/json");
                using var response = await client.PostAsync(endpoint, content).ConfigureAwait(false);
                await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref errors);
                }

                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
            catch (HttpRequestException)
            {
                Interlocked.Increment(ref errors);
            }
        }

        pacer.Start();
        pacer.Join();
        await Task.WhenAll(pending);
        var elapsed = sw.Elapsed.TotalSeconds;
        var sorted = latencies.Order().ToArray();
        double Pct(double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
        return new Result(total / elapsed, Pct(0.50), Pct(0.99), sorted.Length == 0 ? double.NaN : sorted[^1], errors);
    }

    private static async Task WaitReady(HttpClient client)
    {
        for (var i = 0; i < 200; i++)
        {
            try
            {
                using var r = await client.GetAsync("/readyz");
                if (r.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException("skjold serve did not become ready");
    }

    private static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
