namespace Skjold.Cli;

/// <summary>The process environment a command runs in; replaced in tests.</summary>
internal sealed class CliContext
{
    /// <summary>Where results go: stdout, or the file of a command's -o (swapped in for the run).</summary>
    public TextWriter Out { get; set; } = Console.Out;

    public TextWriter Error { get; init; } = Console.Error;

    public Func<Stream> Stdin { get; init; } = Console.OpenStandardInput;

    public string WorkingDirectory { get; init; } = System.Environment.CurrentDirectory;

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>The name the program was started by (argv[0]): kubectl-skjold when kubectl runs it as a plugin.</summary>
    public string InvokedAs { get; init; } = ProgramName();

    /// <summary>The terminal's width in columns, or null when standard output is not a terminal.</summary>
    public int? TerminalWidth { get; set; } = Console.IsOutputRedirected ? null : SafeWidth();

    private static int? SafeWidth()
    {
        try
        {
            return Console.WindowWidth is > 0 and var w ? w : 80;
        }
        catch (IOException)
        {
            return 80;
        }
    }

    /// <summary>The options every command has (--color, -q, -v), set when the command tree is built.</summary>
    internal GlobalOptions? Globals { get; set; }

    /// <summary>Reads an environment variable ($KUBECONFIG, $HOME, ...); tests pass their own.</summary>
    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;

    /// <summary>Whether standard output is a terminal (HTML is then written to a file, not the screen).</summary>
    public bool OutputIsTerminal { get; init; } = !Console.IsOutputRedirected;

    /// <summary>Whether standard error is a terminal (progress then updates one line; otherwise it prints plain lines).</summary>
    public bool ErrorIsTerminal { get; init; } = !Console.IsErrorRedirected;

    /// <summary>Colour when writing to a terminal and NO_COLOR is not set.</summary>
    public bool ColorOutput { get; set; } =
        !Console.IsOutputRedirected && string.IsNullOrEmpty(System.Environment.GetEnvironmentVariable("NO_COLOR"));

    private static string ProgramName()
    {
        try
        {
            // /proc/self/cmdline keeps argv[0] as exec gave it (a symlink's own name); the runtime
            // reports the resolved binary instead.
            if (File.Exists("/proc/self/cmdline"))
            {
                var raw = File.ReadAllBytes("/proc/self/cmdline");
                var end = Array.IndexOf(raw, (byte)0);
                return Path.GetFileNameWithoutExtension(System.Text.Encoding.UTF8.GetString(raw, 0, end < 0 ? raw.Length : end));
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return Path.GetFileNameWithoutExtension(System.Environment.ProcessPath ?? "skjold");
    }

    public static string Version =>
        typeof(CliContext).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}
