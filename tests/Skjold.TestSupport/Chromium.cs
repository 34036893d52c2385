using System.Diagnostics;

namespace Skjold.TestSupport;

/// <summary>
/// Headless Chromium (Debian's chromium package) for the browser tests. The test set-up installs
/// the package when it is missing and the tests run as root (as in CI); .ci/run installs it too.
/// </summary>
public static class Chromium
{
    private static readonly Lazy<string> LazyPath = new(Locate);

    public static string Path => LazyPath.Value;

    private static string Locate()
    {
        foreach (var candidate in new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" })
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        if (Environment.UserName == "root")
        {
            Run("apt-get", ["update", "-qq"], TimeSpan.FromMinutes(5));
            Run("apt-get", ["install", "-y", "-qq", "chromium"], TimeSpan.FromMinutes(10));
            if (File.Exists("/usr/bin/chromium"))
            {
                return "/usr/bin/chromium";
            }
        }

        throw new InvalidOperationException("Chromium is not installed and could not be installed: apt-get install chromium (as root)");
    }

    /// <summary>Runs headless Chromium with the given arguments; returns stdout and stderr.</summary>
    public static (string Out, string Error, int ExitCode) Headless(params string[] args)
    {
        var all = new List<string> { "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--user-data-dir=" + System.IO.Path.Combine(System.IO.Path.GetTempPath(), "skjold-chromium-" + Environment.ProcessId) };
        all.AddRange(args);
        return Run(Path, all, TimeSpan.FromMinutes(2));
    }

    private static (string Out, string Error, int ExitCode) Run(string file, IEnumerable<string> args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish within {timeout}");
        }

        return (stdout.Result, stderr.Result, p.ExitCode);
    }
}
