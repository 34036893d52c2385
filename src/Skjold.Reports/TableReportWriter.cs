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
    public IReportStream Begin(ReportContext context, TextWriter output) => new Stream(context, output, color);

    private sealed class Stream : IReportStream
    {
        private readonly ReportContext _context;
        private readonly IAnsiConsole _console;
        private readonly List<Finding> _group = [];

        public Stream(ReportContext context, TextWriter output, bool color)
        {
            _context = context;
            _console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Ansi = color ? AnsiSupport.Yes : AnsiSupport.No,
                ColorSystem = color ? ColorSystemSupport.Standard : ColorSystemSupport.NoColors,
                Out = new AnsiConsoleOutput(output),
                Interactive = InteractionSupport.No,
            });
            if (!color)
            {
                _console.Profile.Width = 160;
            }
        }

        public void Add(Finding finding)
        {
            // Findings of one resource (kind, namespace, name in one file) arrive together.
            if (_group.Count > 0 && (_group[0].Resource != finding.Resource || _group[0].Location?.File != finding.Location?.File))
            {
                WriteGroup();
            }

            _group.Add(finding);
        }

        public void Complete(ScanTotals totals, IReadOnlyList<SuppressedFinding> suppressed, IReadOnlyList<Diagnostic> diagnostics, IReadOnlyList<string>? evaluatedChecks)
        {
            WriteGroup();
            var console = _console;
            foreach (var d in diagnostics)
            {
                var tag = d.Level == DiagnosticLevel.Error ? "[red]error[/]" : "[yellow]warning[/]";
                console.MarkupLine($"{tag}: {Markup.Escape(d.Message)}");
            }

            if (diagnostics.Count > 0)
            {
                console.WriteLine();
            }

            var counts = Enum.GetValues<Severity>().Reverse().Select(s => $"[{Colour(s)}]{totals.Count(s)} {s.ToName()}[/]");
            var errors = diagnostics.Count(d => d.Level == DiagnosticLevel.Error);
            console.MarkupLine(
                $"Scanned {totals.Resources} resources at Pod Security [bold]{_context.Policy.PssLevel.ToName()}:{_context.Policy.PssVersion}[/]: " +
                $"{totals.Findings} findings ({string.Join(", ", counts)}), {totals.Suppressed} suppressed" +
                (errors > 0 ? $", [red]{errors} input errors[/]" : string.Empty) + ".");
            if (totals.Findings == 0 && errors == 0)
            {
                console.MarkupLine("[green]No findings.[/]");
            }
        }

        private void WriteGroup()
        {
            if (_group.Count == 0)
            {
                return;
            }

            var console = _console;
            var first = _group[0];
            var where = first.Location is { } l ? $" [grey]{Markup.Escape(l.File)}:{l.Line}[/]" : string.Empty;
            console.MarkupLine($"[bold]{Markup.Escape(first.Resource.ToString())}[/]{where}");
            var table = new Table().Border(TableBorder.Simple).Expand();
            table.AddColumn(new TableColumn("Severity").NoWrap());
            table.AddColumn(new TableColumn("Check").NoWrap());
            table.AddColumn("Finding");
            table.AddColumn(new TableColumn("Line").RightAligned().NoWrap());
            foreach (var f in _group.OrderByDescending(f => f.Severity).ThenBy(f => f.Location?.Line ?? 0))
            {
                table.AddRow(
                    new Markup($"[{Colour(f.Severity)}]{f.Severity.ToName()}[/]"),
                    new Text(f.CheckId),
                    new Markup($"{Markup.Escape(f.Message)}\n[grey]at {Markup.Escape(f.Path)}[/]"),
                    new Text(f.Location?.Line.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty));
            }

            console.Write(table);
            console.WriteLine();
            _group.Clear();
        }

        public void Dispose()
        {
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
