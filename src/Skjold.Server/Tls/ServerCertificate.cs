using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Skjold.Server.Tls;

/// <summary>
/// The serving certificate, read from PEM files and reloaded when they change on disk (cert-manager
/// and Kubernetes secret volumes replace files through symlink swaps, so the directory is watched
/// and the files are also checked by modification time on a timer). A reload that fails keeps the
/// previous certificate and logs why.
/// </summary>
public sealed partial class ServerCertificate : IDisposable
{
    private readonly string? _certPath;
    private readonly string? _keyPath;
    private readonly ILogger _logger;
    private readonly FileSystemWatcher? _watcher;
    private readonly ITimer? _timer;
    private X509Certificate2 _current;
    private DateTime _certStamp;
    private DateTime _keyStamp;

    private ServerCertificate(X509Certificate2 certificate, ILogger logger)
    {
        _current = certificate;
        _logger = logger;
    }

    private ServerCertificate(string certPath, string keyPath, ILogger logger, TimeSpan pollInterval, TimeProvider time)
    {
        _certPath = Path.GetFullPath(certPath);
        _keyPath = Path.GetFullPath(keyPath);
        _logger = logger;
        _current = Load(_certPath, _keyPath);
        (_certStamp, _keyStamp) = Stamps();
        var dir = Path.GetDirectoryName(_certPath)!;
        _watcher = new FileSystemWatcher(dir) { IncludeSubdirectories = false, NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.CreationTime };
        _watcher.Changed += (_, _) => TryReload();
        _watcher.Created += (_, _) => TryReload();
        _watcher.Renamed += (_, _) => TryReload();
        _watcher.EnableRaisingEvents = true;
        _timer = time.CreateTimer(_ => TryReload(), null, pollInterval, pollInterval);
    }

    /// <summary>The certificate to present now.</summary>
    public X509Certificate2 Current => Volatile.Read(ref _current);

    /// <summary>How many times the certificate was replaced after start.</summary>
    public int Reloads { get; private set; }

    public static ServerCertificate FromFiles(string certPath, string keyPath, ILogger logger, TimeSpan? pollInterval = null, TimeProvider? time = null) =>
        new(certPath, keyPath, logger, pollInterval ?? TimeSpan.FromSeconds(30), time ?? TimeProvider.System);

    public static ServerCertificate FromCertificate(X509Certificate2 certificate, ILogger logger) => new(certificate, logger);

    public void Dispose()
    {
        _watcher?.Dispose();
        _timer?.Dispose();
    }

    private void TryReload()
    {
        if (_certPath is null || _keyPath is null)
        {
            return;
        }

        lock (_watcher!)
        {
            try
            {
                var stamps = Stamps();
                if (stamps == (_certStamp, _keyStamp))
                {
                    return;
                }

                var next = Load(_certPath, _keyPath);
                if (next.Thumbprint == Current.Thumbprint)
                {
                    (_certStamp, _keyStamp) = stamps;
                    return;
                }

                Volatile.Write(ref _current, next);
                (_certStamp, _keyStamp) = stamps;
                Reloads++;
                ServerLog.CertificateReloaded(_logger, next.Subject, next.NotAfter);
            }
            catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException or ArgumentException)
            {
                // Half-written files during rotation: keep serving the old certificate and try again later.
                ServerLog.CertificateReloadFailed(_logger, ex.Message);
            }
        }
    }

    private (DateTime, DateTime) Stamps() => (File.GetLastWriteTimeUtc(_certPath!), File.GetLastWriteTimeUtc(_keyPath!));

    private static X509Certificate2 Load(string certPath, string keyPath)
    {
        using var pem = X509Certificate2.CreateFromPemFile(certPath, keyPath);
        // Re-import so that the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }
}
