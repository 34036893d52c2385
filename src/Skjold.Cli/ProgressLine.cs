using System.CommandLine;
using System.Diagnostics;

namespace Skjold.Cli;

/// <summary>
/// Progress of long work on stderr: on a terminal one line rewritten in place; otherwise (CI logs,
/// files) plain lines, at most one every two seconds, never a carriage return. Silent with -q.
/// </summary>
internal sealed class ProgressLine(CliContext context, bool quiet)
{
    /// <summary>Inputs of this many resources or more get scan progress (smaller ones finish before it would show).</summary>
    public const int LargeInput = 5_000;

    private readonly Stopwatch _since = Stopwatch.StartNew();
    private int _width;
    private bool _any;

    public static ProgressLine For(ParseResult parse, CliContext context) => new(context, GlobalOptions.Quiet(parse));

    /// <summary>An <see cref="IProgress{T}"/> that reports on this line synchronously (no thread hop, no reordering).</summary>
    public IProgress<T> Of<T>(Func<T, string> text) => new Sync<T>(v => Report(text(v)));

    private sealed class Sync<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

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

/// <summary>
/// --color, --no-color, -q/--quiet and -v/--verbose, on every command: made with each command tree
/// and kept on its context, so any command reads them (System.CommandLine finds a recursive option
/// by its instance, not by its name).
/// </summary>
internal sealed class GlobalOptions
{
    public Option<string> Color { get; } = new("--color")
    {
        Description = "Colour: auto (a terminal, unless NO_COLOR is set), always or never",
        DefaultValueFactory = _ => "auto",
        Recursive = true,
    };

    public Option<bool> NoColor { get; } = new("--no-color") { Description = "Same as --color never", Recursive = true };

    public Option<bool> QuietOption { get; } = new("--quiet", "-q") { Description = "Print only results and errors (no progress, notes or summaries on stderr)", Recursive = true };

    public Option<bool> VerboseOption { get; } = new("--verbose", "-v") { Description = "Also say what is read and from where (the cluster and its kubeconfig) on stderr", Recursive = true };

    public void AddTo(Command root)
    {
        Color.AcceptOnlyFromAmong("auto", "always", "never");
        root.Options.Add(Color);
        root.Options.Add(NoColor);
        root.Options.Add(QuietOption);
        root.Options.Add(VerboseOption);
    }

    /// <summary>Whether to colour, from --color, --no-color, NO_COLOR and whether stdout is a terminal.</summary>
    public bool Colour(ParseResult parse, bool auto) =>
        !parse.GetValue(NoColor) && (parse.GetValue(Color) switch { "always" => true, "never" => false, _ => auto });

    public static bool Quiet(ParseResult parse) => Context(parse)?.Globals is { } g && parse.GetValue(g.QuietOption);

    public static bool Verbose(ParseResult parse) => Context(parse)?.Globals is { } g && parse.GetValue(g.VerboseOption) && !Quiet(parse);

    private static CliContext? Context(ParseResult parse) => Contexts.TryGetValue(parse.RootCommandResult.Command, out var c) ? c : null;

    /// <summary>The context each command tree was built for.</summary>
    internal static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Command, CliContext> Contexts = [];
}
