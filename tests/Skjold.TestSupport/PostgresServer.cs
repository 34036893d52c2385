using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Skjold.TestSupport;

/// <summary>
/// A real PostgreSQL server for tests. Uses SKJOLD_TEST_POSTGRES (a connection string to a server
/// where the user may create databases) when set; otherwise starts a throwaway cluster with the
/// machine's initdb and pg_ctl (Debian's postgresql package, which .ci/run installs), on loopback
/// and a free port, as the postgres user when running as root. Each test gets its own database.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    private static readonly Lazy<PostgresServer> LazyShared = new(() => new PostgresServer());
    private readonly string? _dataDir;
    private readonly string? _pgCtl;
    private readonly string _admin;

    public static PostgresServer Shared => LazyShared.Value;

    private PostgresServer()
    {
        if (Environment.GetEnvironmentVariable("SKJOLD_TEST_POSTGRES") is { Length: > 0 } cs)
        {
            _admin = cs;
            return;
        }

        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderDescending().FirstOrDefault()
            : null;
        if (bin is null)
        {
            throw new InvalidOperationException("PostgreSQL is not installed: install Debian's postgresql package (apt-get install -y postgresql; .ci/run does) or set SKJOLD_TEST_POSTGRES");
        }

        _pgCtl = Path.Combine(bin, "pg_ctl");
        _dataDir = Path.Combine(Path.GetTempPath(), $"skjold-pg-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(_dataDir);
        var asRoot = Environment.UserName == "root";
        if (asRoot)
        {
            Run("chown", ["postgres:postgres", _dataDir]);
        }

        var port = FreePort();
        RunAs(asRoot, Path.Combine(bin, "initdb"), ["-D", _dataDir, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
        RunAs(asRoot, _pgCtl, ["-D", _dataDir, "-l", Path.Combine(_dataDir, "server.log"), "-w", "-t", "60",
            "-o", $"-p {port.ToString(CultureInfo.InvariantCulture)} -k {_dataDir} -c listen_addresses=127.0.0.1 -c max_connections=200", "start"]);
        _admin = $"Host=127.0.0.1;Port={port.ToString(CultureInfo.InvariantCulture)};Username=postgres;Database=postgres;Pooling=false";
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Dispose();
    }

    /// <summary>Creates a fresh database and returns a connection string to it.</summary>
    public string CreateDatabase()
    {
        var name = "skjold_" + Guid.NewGuid().ToString("N")[..12];
        using var c = new Npgsql.NpgsqlConnection(_admin);
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"CREATE DATABASE {name}";
        cmd.ExecuteNonQuery();
        var b = new Npgsql.NpgsqlConnectionStringBuilder(_admin) { Database = name, Pooling = true, MaxPoolSize = 50 };
        return b.ToString();
    }

    public void Dispose()
    {
        if (_pgCtl is not null && _dataDir is not null && Directory.Exists(_dataDir))
        {
            try
            {
                RunAs(Environment.UserName == "root", _pgCtl, ["-D", _dataDir, "-m", "immediate", "stop"]);
            }
            catch (InvalidOperationException)
            {
            }

            try
            {
                Directory.Delete(_dataDir, true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static void RunAs(bool asRoot, string program, string[] args)
    {
        if (asRoot)
        {
            Run("runuser", ["-u", "postgres", "--", program, .. args]);
        }
        else
        {
            Run(program, args);
        }
    }

    private static void Run(string program, string[] args)
    {
        var psi = new ProcessStartInfo(program, args) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000) || p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({(p.HasExited ? p.ExitCode : -1)}): {stderr.Result}{stdout.Result}");
        }
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
