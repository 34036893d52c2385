using System.Diagnostics;
using System.Globalization;

namespace Skjold.Benchmarks;

/// <summary>
/// Start-up (issue 16): wall time of `skjold --version` and `skjold scan examples/` for the native
/// AOT binary and for the JIT build (`dotnet skjold.dll`), rounds interleaved so both see the same
/// machine load; medians.
/// </summary>
internal static class Startup
{
    public static int Run(string aotBinary, int rounds)
    {
        var root = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", ".."));
        var jit = ProcessProbe.Cli;
        if (!File.Exists(aotBinary) || jit is null)
        {
            Console.Error.WriteLine($"needs the AOT binary ({aotBinary}: dotnet publish src/Skjold.Cli -c Release -r linux-x64 -o artifacts/aot) and the Release build of src/Skjold.Cli");
            return 2;
        }

        (string Name, string File, string[] Args)[] cases =
        [
            ("AOT  skjold --version", aotBinary, ["--version"]),
            ("AOT  skjold scan examples/", aotBinary, ["scan", "examples/"]),
            ("JIT  skjold --version", "dotnet", [jit, "--version"]),
            ("JIT  skjold scan examples/", "dotnet", [jit, "scan", "examples/"]),
        ];
        var times = cases.Select(_ => new List<double>()).ToArray();
        foreach (var c in cases)
        {
            Once(c.File, c.Args, root); // warm the page cache
        }

        for (var r = 0; r < rounds; r++)
        {
            for (var i = 0; i < cases.Length; i++)
            {
                times[i].Add(Once(cases[i].File, cases[i].Args, root));
            }
        }

        Console.WriteLine($"| command | median wall ({rounds} rounds) | min |");
        Console.WriteLine("|---|---:|---:|");
        for (var i = 0; i < cases.Length; i++)
        {
            var sorted = times[i].Order().ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {cases[i].Name} | {sorted[sorted.Count / 2]:F0} ms | {sorted[0]:F0} ms |"));
        }

        return 0;
    }

    private static double Once(string file, string[] args, string workingDirectory)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        sw.Stop();
        o.GetAwaiter().GetResult();
        e.GetAwaiter().GetResult();
        return sw.Elapsed.TotalMilliseconds;
    }
}
