using System.Diagnostics;
using System.Globalization;

namespace Skjold.Benchmarks;

/// <summary>Runs the built skjold CLI as a child process and measures its wall time and peak resident memory (VmHWM).</summary>
internal static class ProcessProbe
{
    public static string? Cli
    {
        get
        {
            var cli = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "src", "Skjold.Cli", "bin", "Release", "net10.0", "skjold.dll"));
            return File.Exists(cli) ? cli : null;
        }
    }

    public static async Task<(double Ms, long PeakBytes, int ExitCode)> RunAsync(string cli, IEnumerable<string> args, string? workingDirectory = null)
    {
        // A .dll runs on the JIT (dotnet skjold.dll); anything else is a native binary (the AOT build).
        var psi = new ProcessStartInfo(cli.EndsWith(".dll", StringComparison.Ordinal) ? "dotnet" : cli, cli.EndsWith(".dll", StringComparison.Ordinal) ? [cli, .. args] : [.. args])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        long peak = 0;
        var drain = p.StandardError.ReadToEndAsync();
        var drainOut = p.StandardOutput.ReadToEndAsync();
        while (!p.HasExited)
        {
            peak = Math.Max(peak, PeakRss(p.Id));
            await Task.Delay(10).ConfigureAwait(false);
        }

        sw.Stop();
        await drain.ConfigureAwait(false);
        await drainOut.ConfigureAwait(false);
        return (sw.Elapsed.TotalMilliseconds, peak, p.ExitCode);
    }

    public static long PeakRss(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }
}
