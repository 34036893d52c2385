using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Skjold.TestSupport;

/// <summary>
/// A real rsyslog (Debian's rsyslog and rsyslog-gnutls, which .ci/run installs) listening on
/// loopback: TCP with TLS (a generated CA and certificate, RFC 5425 framing) and UDP, writing every
/// message as received (%rawmsg%) to one file per line. It can be stopped and started again on
/// the same ports, to test delivery across a receiver outage.
/// </summary>
public sealed class Rsyslog : IDisposable
{
    private readonly string _dir;
    private readonly string _config;
    private Process? _process;

    public Rsyslog()
    {
        var rsyslogd = new[] { "/usr/sbin/rsyslogd", "/sbin/rsyslogd" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("rsyslog is not installed: apt-get install -y rsyslog rsyslog-gnutls (.ci/run does)");
        if (!Directory.GetDirectories("/usr/lib").Any(d => File.Exists(Path.Combine(d, "rsyslog", "lmnsd_gtls.so"))))
        {
            throw new InvalidOperationException("rsyslog's TLS driver is missing: apt-get install -y rsyslog-gnutls (.ci/run does)");
        }

        Program = rsyslogd;
        _dir = Path.Combine(Path.GetTempPath(), "skjold-rsyslog-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_dir);
        Certificates = TestCertificates.Create(Path.Combine(_dir, "tls"));
        TlsPort = FreeTcpPort();
        UdpPort = FreeUdpPort();
        OutputFile = Path.Combine(_dir, "received.log");
        _config = Path.Combine(_dir, "rsyslog.conf");
        File.WriteAllText(_config, $"""
            global(workDirectory="{_dir}" maxMessageSize="64k"
                   DefaultNetstreamDriverCAFile="{Certificates.CaFile}"
                   DefaultNetstreamDriverCertFile="{Certificates.CertFile}"
                   DefaultNetstreamDriverKeyFile="{Certificates.KeyFile}")
            module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")
            module(load="imudp")
            input(type="imtcp" port="{TlsPort}" address="127.0.0.1")
            input(type="imudp" port="{UdpPort}" address="127.0.0.1")
            template(name="skjoldRaw" type="string" string="%rawmsg%\n")
            *.* action(type="omfile" file="{OutputFile}" template="skjoldRaw")
            """);
        Start();
    }

    public string Program { get; }

    public TestCertificates Certificates { get; }

    public int TlsPort { get; }

    public int UdpPort { get; }

    public string OutputFile { get; }

    /// <summary>Starts rsyslogd in the foreground and waits until the TLS port accepts connections.</summary>
    public void Start()
    {
        var psi = new ProcessStartInfo(Program, ["-n", "-f", _config, "-i", Path.Combine(_dir, "rsyslogd.pid")])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            WorkingDirectory = _dir,
        };
        _process = System.Diagnostics.Process.Start(psi)!;
        _process.BeginOutputReadLine();
        var stderr = new System.Text.StringBuilder();
        _process.ErrorDataReceived += (_, e) => stderr.AppendLine(e.Data);
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"rsyslogd exited ({_process.ExitCode}): {stderr}");
            }

            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, TlsPort);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }

        throw new InvalidOperationException($"rsyslogd did not listen on {TlsPort}: {stderr}");
    }

    /// <summary>Stops rsyslogd as an operator would (SIGTERM) and waits for it to exit.</summary>
    public void Stop()
    {
        if (_process is { HasExited: false } p)
        {
            Process.Start("kill", ["-TERM", p.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
            if (!p.WaitForExit(20_000))
            {
                p.Kill();
            }
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>The lines received so far.</summary>
    public IReadOnlyList<string> Lines()
    {
        if (!File.Exists(OutputFile))
        {
            return [];
        }

        using var s = new FileStream(OutputFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var r = new StreamReader(s);
        return r.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    public void Dispose()
    {
        Stop();
        try
        {
            Directory.Delete(_dir, true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreeTcpPort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static int FreeUdpPort()
    {
        using var u = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)u.Client.LocalEndPoint!).Port;
    }
}
