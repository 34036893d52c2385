using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Skjold.TestSupport;

/// <summary>A real Alertmanager (Debian's prometheus-alertmanager, which .ci/run installs) on loopback, without clustering.</summary>
public sealed class Alertmanager : IDisposable
{
    private readonly string _dir;
    private readonly Process _process;

    public Alertmanager()
    {
        var program = new[] { "/usr/bin/prometheus-alertmanager", "/usr/bin/alertmanager" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("Alertmanager is not installed: apt-get install -y prometheus-alertmanager (.ci/run does)");
        _dir = Path.Combine(Path.GetTempPath(), "skjold-am-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_dir);
        var config = Path.Combine(_dir, "alertmanager.yml");
        File.WriteAllText(config, """
            route:
              receiver: blackhole
              group_by: ['alertname']
            receivers:
              - name: blackhole
            """);
        int port;
        using (var l = new TcpListener(IPAddress.Loopback, 0))
        {
            l.Start();
            port = ((IPEndPoint)l.LocalEndpoint).Port;
        }

        Url = new Uri($"http://127.0.0.1:{port}/");
        var psi = new ProcessStartInfo(program, [$"--config.file={config}", $"--storage.path={_dir}", $"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            WorkingDirectory = _dir,
        };
        _process = Process.Start(psi)!;
        var log = new System.Text.StringBuilder();
        _process.ErrorDataReceived += (_, e) => log.AppendLine(e.Data);
        _process.OutputDataReceived += (_, e) => log.AppendLine(e.Data);
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"alertmanager exited ({_process.ExitCode}): {log}");
            }

            try
            {
                if (http.GetAsync(new Uri(Url, "-/ready")).GetAwaiter().GetResult().IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            Thread.Sleep(100);
        }

        throw new InvalidOperationException($"alertmanager did not become ready: {log}");
    }

    public Uri Url { get; }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_dir, true);
        }
        catch (IOException)
        {
        }
    }
}
