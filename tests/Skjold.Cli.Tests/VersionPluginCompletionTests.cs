using System.Diagnostics;
using System.Text.Json;
using Skjold.Engine.Checks;

namespace Skjold.Cli.Tests;

/// <summary>
/// <c>skjold version</c>, the kubectl plugin form and shell completion. The plugin and completion
/// tests run the built <c>skjold</c> binary as a child process: under a <c>kubectl-skjold</c>
/// link, through the real <c>kubectl</c> (which .ci/run installs), and from bash with the
/// generated completion script.
/// </summary>
public sealed class VersionPluginCompletionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-plugin-").FullName;

    private static string Binary => Path.Combine(AppContext.BaseDirectory, "skjold");

    public void Dispose() => Directory.Delete(_dir, true);

    private static (int Code, string Out, string Err) Exec(string file, IEnumerable<string> args, string? path = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        if (path is not null)
        {
            start.Environment["PATH"] = path + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH");
        }

        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(60_000), "the command did not finish in 60 s");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private string PluginDirectory()
    {
        var dir = Path.Combine(_dir, "bin");
        Directory.CreateDirectory(dir);
        File.CreateSymbolicLink(Path.Combine(dir, "kubectl-skjold"), Binary);
        File.CreateSymbolicLink(Path.Combine(dir, "skjold"), Binary);
        return dir;
    }

    [Fact]
    public void Version_NamesTheBuildAndTheDataItJudgesBy()
    {
        var run = CliRunner.Run(_dir, null, "version", "-f", "json");

        Assert.Equal(0, run.ExitCode);
        var v = JsonDocument.Parse(run.Out).RootElement;
        Assert.Matches("^[0-9]+\\.[0-9]+\\.[0-9]+", v.GetProperty("version").GetString());
        Assert.Matches("^[0-9a-f]{7,40}$", v.GetProperty("commit").GetString());
        Assert.Contains(".NET", v.GetProperty("runtime").GetString(), StringComparison.Ordinal);
        Assert.Equal(["privileged", "baseline", "restricted"], v.GetProperty("pssLevels").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(CheckCatalog.Default.All.Count, v.GetProperty("checks").GetInt32());
        Assert.Contains(v.GetProperty("frameworks").EnumerateArray(), f => f.GetString()!.StartsWith("cis ", StringComparison.Ordinal));
        Assert.True(v.GetProperty("releasesNewest").GetInt32() > v.GetProperty("releasesOldest").GetInt32());

        var table = CliRunner.Run(_dir, null, "version");
        Assert.Contains("pod security:", table.Out, StringComparison.Ordinal);
        Assert.Contains("kubernetes:        release table 1.", table.Out, StringComparison.Ordinal);

        var flag = CliRunner.Run(_dir, null, "--version");
        Assert.Equal(0, flag.ExitCode);
        Assert.StartsWith("skjold " + v.GetProperty("version").GetString() + " (commit " + v.GetProperty("commit").GetString(), flag.Out, StringComparison.Ordinal);
        Assert.Single(flag.Out.Trim().Split('\n'));
    }

    [Fact]
    public void AsKubectlSkjold_ItsHelpSaysSo_AndKubectlRunsIt()
    {
        var bin = PluginDirectory();

        var direct = Exec(Path.Combine(bin, "kubectl-skjold"), ["--help"]);
        Assert.Equal(0, direct.Code);
        Assert.Contains("Running as a kubectl plugin: write 'kubectl skjold COMMAND'", direct.Out, StringComparison.Ordinal);

        var plain = Exec(Path.Combine(bin, "skjold"), ["--help"]);
        Assert.Contains("Also a kubectl plugin", plain.Out, StringComparison.Ordinal);

        // Through kubectl's own plugin mechanism, where kubectl is installed (.ci/run installs it).
        var kubectl = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator)
            .Select(d => Path.Combine(d, "kubectl")).FirstOrDefault(File.Exists);
        if (kubectl is not null)
        {
            var viaKubectl = Exec(kubectl, ["skjold", "version", "-f", "json"], bin);
            Assert.True(viaKubectl.Code == 0, viaKubectl.Err);
            Assert.NotNull(JsonDocument.Parse(viaKubectl.Out).RootElement.GetProperty("commit").GetString());
            var exitCode = Exec(kubectl, ["skjold", "scan", Path.Combine(_dir, "nothing-here")], bin);
            Assert.Equal(2, exitCode.Code); // kubectl passes the plugin's exit code through
        }
    }

    [Theory]
    [InlineData("skjold sc", "scan")]
    [InlineData("skjold audit ver", "verify")]
    [InlineData("skjold scan --fail", "--fail-on")]
    [InlineData("kubectl-skjold rb", "rbac")]
    public void BashCompletion_AsksTheCommandWhatComesNext(string line, string expected)
    {
        var bin = PluginDirectory();
        var script = Path.Combine(_dir, "skjold.bash");
        File.WriteAllText(script, CliRunner.Run(_dir, null, "completion", "bash").Out);
        var words = line.Split(' ');
        var driver = $"""
            source '{script}'
            COMP_LINE='{line}'; COMP_POINT={line.Length}
            COMP_WORDS=({string.Join(' ', words.Select(w => $"'{w}'"))}); COMP_CWORD={words.Length - 1}
            _skjold_complete
            printf '%s\n' "${"{"}COMPREPLY[@]{"}"}"
            """;

        var run = Exec("bash", ["-c", driver], bin);

        Assert.True(run.Code == 0, run.Err);
        Assert.Contains(expected, run.Out.Split('\n'));
    }

    [Theory]
    [InlineData("zsh", "compdef _skjold skjold kubectl-skjold")]
    [InlineData("fish", "complete -c skjold")]
    [InlineData("powershell", "Register-ArgumentCompleter -Native -CommandName skjold")]
    public void CompletionScripts_ForEveryShell_UseTheSuggestDirective(string shell, string registration)
    {
        var run = CliRunner.Run(_dir, null, "completion", shell);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains(registration, run.Out, StringComparison.Ordinal);
        Assert.Contains("[suggest:", run.Out, StringComparison.Ordinal);

        // What the scripts ask for is answered by the command itself.
        var suggest = CliRunner.Run(_dir, null, "[suggest:2]", "ve");
        Assert.Contains("version", suggest.Out.Split('\n').Select(l => l.Trim()));
    }

    [Fact]
    public void Completion_OfAnUnknownShell_IsAUsageError()
    {
        var run = CliRunner.Run(_dir, null, "completion", "tcsh");

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: ", run.Error, StringComparison.Ordinal);
    }
}
