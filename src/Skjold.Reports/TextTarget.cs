using Spectre.Console;

namespace Skjold.Reports;

/// <summary>Where a view is written: the writer, whether to colour, and the terminal's width (null when piped).</summary>
public sealed record TextTarget(TextWriter Out, bool Color, int? TerminalWidth)
{
    /// <summary>A terminal: fitted to its width; piped: rows on one line each, no padding to a width.</summary>
    public IAnsiConsole Console() => PlainConsole.Create(Out, Color, TerminalWidth ?? 1_000_000);

    /// <summary>Piped output has no border lines (kubectl style); a terminal gets the simple border.</summary>
    public Table NewTable(params string[] columns)
    {
        var table = new Table().Border(TerminalWidth is null ? TableBorder.None : TableBorder.Simple);
        foreach (var c in columns)
        {
            table.AddColumn(c);
        }

        return table;
    }
}
