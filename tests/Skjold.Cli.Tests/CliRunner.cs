using System.Text;

namespace Skjold.Cli.Tests;

/// <summary>Runs the skjold command in-process with captured output.</summary>
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

    private static CliRun RunWith(DateTimeOffset? now, IReadOnlyDictionary<string, string>? environment, string workingDirectory, string? stdin, string[] args, bool terminal = false)
    {
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
}
