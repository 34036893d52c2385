using Spectre.Console;

namespace Skjold.Reports;

/// <summary>
/// Spectre consoles for the CLI's views. Without colour the output goes through a plain forwarding
/// writer: Spectre then sees no terminal and writes no escape codes at all (on a terminal its
/// non-ANSI backend would still reset colours through System.Console).
/// </summary>
public static class PlainConsole
{
    public static IAnsiConsole Create(TextWriter output, bool color, int? width = null)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = color ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = color ? ColorSystemSupport.Standard : ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(color ? output : new Forwarding(output)),
            Interactive = InteractionSupport.No,
        });
        if (width is { } w)
        {
            console.Profile.Width = w;
        }

        return console;
    }

    private sealed class Forwarding(TextWriter inner) : TextWriter
    {
        public override System.Text.Encoding Encoding => inner.Encoding;

        public override void Write(char value) => inner.Write(value);

        public override void Write(string? value) => inner.Write(value);

        public override void Write(char[] buffer, int index, int count) => inner.Write(buffer, index, count);

        public override void WriteLine(string? value) => inner.WriteLine(value);

        public override void Flush() => inner.Flush();
    }
}
