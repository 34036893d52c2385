using System.Text;

namespace Skjold.Cli.Tests;

/// <summary>
/// Runs the skjold command with captured output: in-process, or, when <c>SKJOLD_CLI_BINARY</c>
/// names a built binary (CI sets it to the native AOT build), as that binary in a child process
/// for every run that does not need a fake clock or a terminal (those stay in-process).
/// </summary>
internal sealed record CliRun(int ExitCode, string Out, string Error);

internal static class CliRunner
{
    public static CliRun Run(string workingDirectory, string? stdin, params string[] args) => RunAt(null, workingDirectory, stdin, args);

    /// <summary>Runs with the clock at <paramref name="now"/> (the system clock when null).</summary>
    public static CliRun RunAt(DateTimeOffset? now, string workingDirectory, string? stdin, params string[] args) => RunWith(now, null, workingDirectory, stdin, args);

    /// <summary>Runs with these environment variables only (none of the test process's: no $KUBECONFIG or $HOME leaks in).</summary>
    public static CliRun RunWithEnvironment(IReadOnlyDictionary<string, string> environment, string workingDirectory, params string[] args) =>
        RunWith(null, environment, workingDirectory, null, args);

    public static CliRun RunWithEnvironment(IReadOnlyDictionary<string, string> environment, string workingDirectory, string? stdin, string[] args) =>
        RunWith(null, environment, workingDirectory, stdin, args);

    /// <summary>Runs as if stdout and stderr were a terminal.</summary>
    public static CliRun RunOnTerminal(string workingDirectory, params string[] args) => RunWith(null, null, workingDirectory, null, args, terminal: true);

    /// <summary>The binary the tests run against, when set (SKJOLD_CLI_BINARY).</summary>
    public static string? Binary { get; } = Environment.GetEnvironmentVariable("SKJOLD_CLI_BINARY") is { Length: > 0 } b ? Path.GetFullPath(b) : null;

    private static CliRun RunWith(DateTimeOffset? now, IReadOnlyDictionary<string, string>? environment, string workingDirectory, string? stdin, string[] args, bool terminal = false)
    {
        if (Binary is { } binary && now is null && !terminal)
        {
            return RunProcess(binary, environment, workingDirectory, stdin, args);
        }

        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext
        {
            Out = output,
            Error = error,
            WorkingDirectory = workingDirectory,
            Stdin = () => new MemoryStream(Encoding.UTF8.GetBytes(stdin ?? string.Empty)),
            ColorOutput = false,
            Time = now is { } t ? new Microsoft.Extensions.Time.Testing.FakeTimeProvider(t) : TimeProvider.System,
            Environment = environment is null ? Environment.GetEnvironmentVariable : name => environment.GetValueOrDefault(name),
            OutputIsTerminal = terminal,
            ErrorIsTerminal = terminal,
            TerminalWidth = terminal ? 80 : null,
        };
        var code = SkjoldCli.Run(args, context);
        return new CliRun(code, output.ToString(), error.ToString());
    }

    private static CliRun RunProcess(string binary, IReadOnlyDictionary<string, string>? environment, string workingDirectory, string? stdin, string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(binary, args)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
        };
        if (environment is not null)
        {
            psi.Environment.Clear();
            foreach (var (k, v) in environment)
            {
                psi.Environment[k] = v;
            }
        }

        using var p = System.Diagnostics.Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        p.StandardInput.Write(stdin ?? string.Empty);
        p.StandardInput.Close();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{binary} {string.Join(' ', args)} did not finish in 5 minutes");
        }

        return new CliRun(p.ExitCode, output.GetAwaiter().GetResult(), error.GetAwaiter().GetResult());
    }
}
