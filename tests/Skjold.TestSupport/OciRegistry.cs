using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Skjold.TestSupport;

/// <summary>
/// A real OCI registry (Debian's docker-registry, the CNCF distribution registry, which .ci/run installs) on
/// loopback with TLS from a throwaway CA and htpasswd (bcrypt) basic auth, storing into a temporary directory.
/// </summary>
public sealed class OciRegistry : IDisposable
{
    public const string User = "skjold";
    public const string Password = "registry-test-password";

    private readonly string _dir;
    private Process _process;
    private readonly string _config;
    private readonly StringBuilder _log = new();

    public OciRegistry()
    {
        var program = "/usr/bin/docker-registry";
        if (!File.Exists(program))
        {
            throw new InvalidOperationException("docker-registry is not installed: apt-get install -y docker-registry (.ci/run does)");
        }

        _dir = Path.Combine(Path.GetTempPath(), "skjold-registry-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_dir);
        Certificates = TestCertificates.Create(Path.Combine(_dir, "tls"));
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Org.BouncyCastle.Crypto.Generators.OpenBsdBCrypt.Generate("2a", Password.ToCharArray(), salt, 5);
        File.WriteAllText(Path.Combine(_dir, "htpasswd"), $"{User}:{hash}\n");
        int port;
        using (var l = new TcpListener(IPAddress.Loopback, 0))
        {
            l.Start();
            port = ((IPEndPoint)l.LocalEndpoint).Port;
        }

        Host = $"127.0.0.1:{port}";
        _config = Path.Combine(_dir, "config.yml");
        File.WriteAllText(_config, $"""
            version: 0.1
            log:
              level: warn
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {Path.Combine(_dir, "data")}
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:{port}
              secret: skjold-test-secret
              tls:
                certificate: {Certificates.CertFile}
                key: {Certificates.KeyFile}
            auth:
              htpasswd:
                realm: skjold-test
                path: {Path.Combine(_dir, "htpasswd")}
            """);
        _process = Start();
    }

    /// <summary>host:port of the registry, as an image reference's registry part.</summary>
    public string Host { get; }

    public TestCertificates Certificates { get; }

    /// <summary>A docker config.json with this registry's credentials.</summary>
    public string DockerConfigJson =>
        $"{{\"auths\":{{\"{Host}\":{{\"auth\":\"{Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}"))}\"}}}}}}";

    public string Log => _log.ToString();

    /// <summary>Stops the registry (to test an unreachable registry); <see cref="Restart"/> brings it back on the same port.</summary>
    public void Stop()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }
    }

    public void Restart()
    {
        Stop();
        _process = Start();
    }

    private Process Start()
    {
        var psi = new ProcessStartInfo("/usr/bin/docker-registry", ["serve", _config])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            WorkingDirectory = _dir,
        };
        var process = Process.Start(psi)!;
        process.ErrorDataReceived += (_, e) => { lock (_log) { _log.AppendLine(e.Data); } };
        process.OutputDataReceived += (_, e) => { lock (_log) { _log.AppendLine(e.Data); } };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"docker-registry exited ({process.ExitCode}): {Log}");
            }

            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, int.Parse(Host.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture));
                return process;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }

        throw new InvalidOperationException($"docker-registry did not listen: {Log}");
    }

    public void Dispose()
    {
        Stop();
        _process.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
