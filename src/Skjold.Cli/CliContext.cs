namespace Skjold.Cli;

/// <summary>The process environment a command runs in; replaced in tests.</summary>
internal sealed class CliContext
{
    public TextWriter Out { get; init; } = Console.Out;

    public TextWriter Error { get; init; } = Console.Error;

    public Func<Stream> Stdin { get; init; } = Console.OpenStandardInput;

    public string WorkingDirectory { get; init; } = System.Environment.CurrentDirectory;

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Reads an environment variable ($KUBECONFIG, $HOME, ...); tests pass their own.</summary>
    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;

    /// <summary>Colour when writing to a terminal and NO_COLOR is not set.</summary>
    public bool ColorOutput { get; init; } =
        !Console.IsOutputRedirected && string.IsNullOrEmpty(System.Environment.GetEnvironmentVariable("NO_COLOR"));

    public static string Version =>
        typeof(CliContext).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}
