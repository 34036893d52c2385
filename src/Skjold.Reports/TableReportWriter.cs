using System.Globalization;
using Skjold.Engine.Model;
using Skjold.Engine.Pss;
using Spectre.Console;

namespace Skjold.Reports;

/// <summary>How the human view is laid out.</summary>
public sealed record TableOptions
{
    /// <summary>Colour by severity (a terminal without NO_COLOR).</summary>
    public bool Color { get; init; }

    /// <summary>The terminal's width: a table fitted to it. Null (piped, a file): kubectl-style columns, no padding to a width, no wrapping.</summary>
    public int? Width { get; init; }

    /// <summary>-f wide: each finding's path in the object as well.</summary>
    public bool Wide { get; init; }

    /// <summary>Findings kept to order resources most severe first; beyond this, resources are shown as they come.</summary>
    public int MaxSorted { get; init; } = 50_000;
}

/// <summary>
/// The human view: findings grouped by resource, the most severe resource first and the most
/// severe finding first within it, each finding with its file and line; then input problems and a
/// summary with counts per severity. On a terminal a table fitted to its width; piped, plain
/// aligned columns that tools like grep and awk read.
/// </summary>
public sealed class TableReportWriter(TableOptions options) : IReportWriter
{
    public IReportStream Begin(ReportContext context, TextWriter output) => new Stream(context, output, options);

    private sealed class Stream : IReportStream
    {
        private readonly ReportContext _context;
        private readonly TableOptions _options;
        private readonly IAnsiConsole _console;
        private readonly TextWriter _output;
        private readonly List<List<Finding>> _groups = [];
        private int _buffered;
        private bool _streaming;

        public Stream(ReportContext context, TextWriter output, TableOptions options)
        {
            _context = context;
            _options = options;
            _output = output;
            // Piped: nothing wraps (kubectl style); a terminal: its width.
            _console = PlainConsole.Create(output, options.Color, options.Width is { } w ? Math.Max(w, 40) : 1_000_000);
        }

        public void Add(Finding finding)
        {
            // Findings of one resource (kind, namespace, name in one file) arrive together.
            if (_groups.Count == 0 || _groups[^1][0].Resource != finding.Resource || _groups[^1][0].Location?.File != finding.Location?.File)
            {
                if (_streaming && _groups.Count > 0)
                {
                    WriteGroup(_groups[0]);
                    _groups.Clear();
                }

                _groups.Add([]);
            }

            _groups[^1].Add(finding);
            if (!_streaming && ++_buffered > _options.MaxSorted)
            {
                // Too many to hold for sorting: what is held goes out most severe first, the rest as it comes.
                _streaming = true;
                var last = _groups[^1];
                _groups.RemoveAt(_groups.Count - 1);
                foreach (var g in Ordered(_groups))
                {
                    WriteGroup(g);
                }

                _groups.Clear();
                _groups.Add(last);
            }
        }

        private static IEnumerable<List<Finding>> Ordered(List<List<Finding>> groups) =>
            groups.Select((g, i) => (Group: g, Order: i, Worst: g.Max(f => f.Severity)))
                .OrderByDescending(x => x.Worst).ThenBy(x => x.Order).Select(x => x.Group);

        public void Complete(ScanTotals totals, IReadOnlyList<SuppressedFinding> suppressed, IReadOnlyList<Diagnostic> diagnostics, IReadOnlyList<string>? evaluatedChecks)
        {
            foreach (var g in _streaming ? _groups : Ordered(_groups))
            {
                WriteGroup(g);
            }

            _groups.Clear();
            FlushPending();
            if (_streaming)
            {
                _console.MarkupLine($"[grey]More than {_options.MaxSorted:N0} findings: resources after the first ones are shown in input order.[/]");
            }

            foreach (var d in diagnostics)
            {
                var tag = d.Level == DiagnosticLevel.Error ? "[red]error[/]" : "[yellow]warning[/]";
                var where = d.Location is { } l ? $"{l.File}:{l.Line}: " : string.Empty;
                _console.MarkupLine($"{tag}: {Markup.Escape(where + d.Message)}");
            }

            if (diagnostics.Count > 0)
            {
                _console.WriteLine();
            }

            var counts = Enum.GetValues<Severity>().Reverse().Select(s => $"[{Colour(s)}]{totals.Count(s)} {s.ToName()}[/]");
            var errors = diagnostics.Count(d => d.Level == DiagnosticLevel.Error);
            var shown = totals.ShownSeverities is { } only ? $" (showing {string.Join(", ", only.OrderByDescending(s => s).Select(s => s.ToName()))})" : string.Empty;
            _console.MarkupLine(
                $"Scanned {totals.Resources} resources at Pod Security [bold]{_context.Policy.PssLevel.ToName()}:{_context.Policy.PssVersion}[/]: " +
                $"{totals.Findings} findings ({string.Join(", ", counts)}){shown}, {totals.Suppressed} suppressed" +
                (errors > 0 ? $", [red]{errors} input errors[/]" : string.Empty) + ".");
            if (totals.Findings == 0 && errors == 0)
            {
                _console.MarkupLine("[green]No findings.[/]");
            }
        }

        private static string Where(Finding f) => f.Location is { } l ? $"{l.File}:{l.Line.ToString(CultureInfo.InvariantCulture)}" : "-";

        private void WriteGroup(List<Finding> group)
        {
            var first = group[0];
            var findings = group.OrderByDescending(f => f.Severity).ThenBy(f => f.Location?.Line ?? 0).ToList();
            if (_options.Width is null)
            {
                WritePlain(first, findings);
                return;
            }

            // A terminal: severity, check and place on one line, the message under them wrapped at
            // word boundaries to the width (no table whose columns squeeze words apart).
            var width = Math.Max(_options.Width!.Value, 40);
            var file = first.Location is { } l ? $"  [grey]{Markup.Escape(l.File)}[/]" : string.Empty;
            _console.MarkupLine($"[bold]{Markup.Escape(first.Resource.ToString())}[/]{file}");
            var severity = findings.Max(f => f.Severity.ToName().Length);
            var check = findings.Max(f => f.CheckId.Length);
            var indent = new string(' ', 2 + severity + 2);
            foreach (var f in findings)
            {
                var head = $"  [{Colour(f.Severity)}]{f.Severity.ToName().PadRight(severity)}[/]  {Markup.Escape(f.CheckId)}";
                var headLength = 2 + severity + 2 + f.CheckId.Length;
                var place = Where(f);
                if (headLength + (check - f.CheckId.Length) + 2 + place.Length <= width)
                {
                    _console.MarkupLine($"{head}{new string(' ', check - f.CheckId.Length)}  [grey]{Markup.Escape(place)}[/]");
                }
                else
                {
                    _console.MarkupLine(head);
                    _console.MarkupLine($"{indent}[grey]{Markup.Escape(place)}[/]");
                }

                foreach (var line in Wrap(f.Message, width - indent.Length))
                {
                    _console.MarkupLine(indent + Markup.Escape(line));
                }

                if (_options.Wide)
                {
                    foreach (var line in Wrap("at " + f.Path, width - indent.Length))
                    {
                        _console.MarkupLine($"{indent}[grey]{Markup.Escape(line)}[/]");
                    }
                }
            }

            _console.WriteLine();
        }

        /// <summary>Lines of at most <paramref name="width"/> characters, broken between words (a word longer than a line is cut).</summary>
        internal static IEnumerable<string> Wrap(string text, int width)
        {
            width = Math.Max(width, 20);
            var line = new System.Text.StringBuilder();
            foreach (var word in text.ReplaceLineEndings(" ").Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var w = word;
                while (w.Length > width)
                {
                    if (line.Length > 0)
                    {
                        yield return line.ToString();
                        line.Clear();
                    }

                    yield return w[..width];
                    w = w[width..];
                }

                if (line.Length > 0 && line.Length + 1 + w.Length > width)
                {
                    yield return line.ToString();
                    line.Clear();
                }

                if (line.Length > 0)
                {
                    line.Append(' ');
                }

                line.Append(w);
            }

            if (line.Length > 0)
            {
                yield return line.ToString();
            }
        }

        /// <summary>kubectl's piped style: a header, then one line per finding, columns aligned, nothing padded past the text.</summary>
        private void WritePlain(Finding first, List<Finding> findings)
        {
            var severity = Math.Max("SEVERITY".Length, findings.Max(f => f.Severity.ToName().Length));
            var check = Math.Max("CHECK".Length, findings.Max(f => f.CheckId.Length));
            var where = Math.Max("WHERE".Length, findings.Max(f => Where(f).Length));
            var header = $"  {"SEVERITY".PadRight(severity)}  {"CHECK".PadRight(check)}  {"WHERE".PadRight(where)}  {(_options.Wide ? "FINDING  PATH" : "FINDING")}";
            if (!_options.Color)
            {
                // Without colour there is no markup to render: the text goes straight to the writer,
                // gathered into blocks (through Spectre a line costs tens of microseconds, and an
                // auto-flushing stdout pays a system call per write: minutes for millions of findings).
                var b = _pending;
                b.Append(first.Resource.ToString()).AppendLine().Append(header).AppendLine();
                foreach (var f in findings)
                {
                    b.Append("  ").Append(f.Severity.ToName().PadRight(severity)).Append("  ").Append(PlainRow(f, check, where)).AppendLine();
                }

                b.AppendLine();
                if (b.Length >= PendingLimit)
                {
                    FlushPending();
                }

                return;
            }

            _console.WriteLine(first.Resource.ToString());
            _console.WriteLine(header);
            foreach (var f in findings)
            {
                _console.MarkupLine($"  [{Colour(f.Severity)}]{f.Severity.ToName().PadRight(severity)}[/]  {Markup.Escape(PlainRow(f, check, where))}");
            }

            _console.WriteLine();
        }

        private const int PendingLimit = 32 * 1024;

        private readonly System.Text.StringBuilder _pending = new();

        /// <summary>Hands the gathered plain text to the writer; before anything else is written, so the order holds.</summary>
        private void FlushPending()
        {
            if (_pending.Length > 0)
            {
                _output.Write(_pending.ToString());
                _pending.Clear();
            }
        }

        private string PlainRow(Finding f, int check, int where) =>
            $"{f.CheckId.PadRight(check)}  {Where(f).PadRight(where)}  {f.Message.ReplaceLineEndings(" ")}{(_options.Wide ? "  " + f.Path : string.Empty)}";

        public void Dispose() => FlushPending();
    }

    /// <summary>The Spectre style of a severity in every human view.</summary>
    public static string Colour(Severity s) => s switch
    {
        Severity.Critical => "bold red",
        Severity.High => "red",
        Severity.Medium => "yellow",
        Severity.Low => "blue",
        _ => "grey",
    };
}
