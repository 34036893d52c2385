using System.Text;

namespace Skjold.Cli.Tests;

/// <summary>Runs the skjold command in-process with captured output.</summary>
internal sealed record CliRun(int ExitCode, string Out, string Error);

internal static class CliRunner
{
    public static CliRun Run(string workingDirectory, string? stdin, params string[] args) => RunAt(null, workingDirectory, stdin, args);

    /// <summary>Runs with the clock at <paramref name="now"/> (the system clock when null).</summary>
    public static CliRun RunAt(DateTimeOffset? now, string workingDirectory, string? stdin, params string[] args)
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
        };
        var code = SkjoldCli.Run(args, context);
        return new CliRun(code, output.ToString(), error.ToString());
    }
}
