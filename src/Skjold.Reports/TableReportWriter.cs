using Skjold.Engine.Model;
using Skjold.Engine.Pss;
using Spectre.Console;

namespace Skjold.Reports;

/// <summary>
/// The human view: findings grouped by resource, coloured by severity on a terminal, then input
/// problems and a summary line with counts per severity.
/// </summary>
public sealed class TableReportWriter(bool color) : IReportWriter
{
    public void Write(ReportContext context, TextWriter output)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = color ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = color ? ColorSystemSupport.Standard : ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(output),
            Interactive = InteractionSupport.No,
        });
        if (!color)
        {
            console.Profile.Width = 160;
        }
        var result = context.Result;

        foreach (var group in result.Findings.GroupBy(f => (f.Resource, f.Location?.File)))
        {
            var first = group.First();
            var where = first.Location is { } l ? $" [grey]{Markup.Escape(l.File)}:{l.Line}[/]" : string.Empty;
            console.MarkupLine($"[bold]{Markup.Escape(group.Key.Resource.ToString())}[/]{where}");
            var table = new Table().Border(TableBorder.Simple).Expand();
            table.AddColumn(new TableColumn("Severity").NoWrap());
            table.AddColumn(new TableColumn("Check").NoWrap());
            table.AddColumn("Finding");
            table.AddColumn(new TableColumn("Line").RightAligned().NoWrap());
            foreach (var f in group.OrderByDescending(f => f.Severity).ThenBy(f => f.Location?.Line ?? 0))
            {
                table.AddRow(
                    new Markup($"[{Colour(f.Severity)}]{f.Severity.ToName()}[/]"),
                    new Text(f.CheckId),
                    new Markup($"{Markup.Escape(f.Message)}\n[grey]at {Markup.Escape(f.Path)}[/]"),
                    new Text(f.Location?.Line.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty));
            }

            console.Write(table);
            console.WriteLine();
        }

        foreach (var d in result.Diagnostics)
        {
            var tag = d.Level == DiagnosticLevel.Error ? "[red]error[/]" : "[yellow]warning[/]";
            console.MarkupLine($"{tag}: {Markup.Escape(d.Message)}");
        }

        if (result.Diagnostics.Count > 0)
        {
            console.WriteLine();
        }

        var counts = Enum.GetValues<Severity>().Reverse()
            .Select(s => (s, n: result.Findings.Count(f => f.Severity == s)))
            .Select(x => $"[{Colour(x.s)}]{x.n} {x.s.ToName()}[/]");
        var errors = result.Diagnostics.Count(d => d.Level == DiagnosticLevel.Error);
        console.MarkupLine(
            $"Scanned {result.ResourceCount} resources at Pod Security [bold]{context.Policy.PssLevel.ToName()}:{context.Policy.PssVersion}[/]: " +
            $"{result.Findings.Count} findings ({string.Join(", ", counts)}), {result.Suppressed.Count} suppressed" +
            (errors > 0 ? $", [red]{errors} input errors[/]" : string.Empty) + ".");
        if (result.Findings.Count == 0 && errors == 0)
        {
            console.MarkupLine("[green]No findings.[/]");
        }
    }

    private static string Colour(Severity s) => s switch
    {
        Severity.Critical => "bold red",
        Severity.High => "red",
        Severity.Medium => "yellow",
        Severity.Low => "blue",
        _ => "grey",
    };
}
