using System.CommandLine;
using System.Diagnostics;

namespace Skjold.Cli;

/// <summary>
/// Progress of long work on stderr: on a terminal one line rewritten in place; otherwise (CI logs,
/// files) plain lines, at most one every two seconds, never a carriage return. Silent with -q.
/// </summary>
internal sealed class ProgressLine(CliContext context, bool quiet)
{
    private readonly Stopwatch _since = Stopwatch.StartNew();
    private int _width;
    private bool _any;

    public static ProgressLine For(ParseResult parse, CliContext context) => new(context, GlobalOptions.Quiet(parse));

    public void Report(string text)
    {
        if (quiet)
        {
            return;
        }

        if (context.ErrorIsTerminal)
        {
            context.Error.Write("\r" + text.PadRight(_width));
            _width = Math.Max(_width, text.Length);
            _any = true;
        }
        else if (!_any || _since.Elapsed >= TimeSpan.FromSeconds(2))
        {
            context.Error.WriteLine(text);
            _since.Restart();
            _any = true;
        }
    }

    /// <summary>Ends the progress: clears the terminal line (or, in a log, writes the final state once).</summary>
    public void Done(string? final = null)
    {
        if (quiet)
        {
            return;
        }

        if (context.ErrorIsTerminal)
        {
            if (_any)
            {
                context.Error.Write("\r" + new string(' ', _width) + "\r");
            }
        }
        else if (final is not null)
        {
            context.Error.WriteLine(final);
        }
    }
}

/// <summary>-q/--quiet and -v/--verbose, on every command (made for each command tree, found by name).</summary>
internal static class GlobalOptions
{
    public static Option<bool> Quiet() => new("--quiet", "-q") { Description = "Print only results and errors (no progress, notes or summaries on stderr)", Recursive = true };

    public static Option<bool> Verbose() => new("--verbose", "-v") { Description = "Also say what is read and from where (the cluster and its kubeconfig) on stderr", Recursive = true };

    public static bool Quiet(ParseResult parse) => Flag(parse, "--quiet");

    public static bool Verbose(ParseResult parse) => Flag(parse, "--verbose") && !Quiet(parse);

    private static bool Flag(ParseResult parse, string name)
    {
        try
        {
            return parse.GetValue<bool>(name);
        }
        catch (InvalidOperationException)
        {
            return false; // a command tree without the global options (tests of one command)
        }
    }
}
