using Skjold.Engine.Checks;
using Skjold.Engine.Model;
using Skjold.Engine.Policy;

namespace Skjold.Reports.Tests;

/// <summary>The piped table writes finding text as it is: markup brackets and emoji shortcodes are data, never rendered.</summary>
public sealed class TableWriterTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    private static string Write(TableOptions options, params Finding[] findings)
    {
        var context = new ReportContext(new ScanResult([.. findings], [], [], 1), ScanPolicy.Default, CheckCatalog.Default, "1.2.3", Now, "/repo");
        var output = new StringWriter();
        ReportWriters.Write(new TableReportWriter(options), context, output);
        return output.ToString();
    }

    private static Finding Finding(string message, int line) =>
        new("wl/image-tag", Severity.Medium, new ResourceRef("v1", "Pod", "shop", "web"), "spec.containers[0].image", message, "pin it", new SourceLocation("pod.yaml", line));

    [Fact]
    public void Piped_MarkupAndShortcodesInMessages_PrintedVerbatim_InColumns()
    {
        var text = Write(new TableOptions(), Finding("image [red]x[/] :warning: uses :latest", 7), Finding("second\nline", 9));
        var lines = text.Split('\n');
        Assert.Equal("Pod/shop/web", lines[0]);
        Assert.Equal("  SEVERITY  CHECK         WHERE       FINDING", lines[1]);
        Assert.Equal("  medium    wl/image-tag  pod.yaml:7  image [red]x[/] :warning: uses :latest", lines[2]);
        Assert.Equal("  medium    wl/image-tag  pod.yaml:9  second line", lines[3]);
        Assert.DoesNotContain('\u26A0', text);
    }

    [Fact]
    public void Coloured_SameText_WithEscapeCodes()
    {
        var plain = Write(new TableOptions(), Finding("image [red]x[/] uses latest", 7));
        var coloured = Write(new TableOptions { Color = true }, Finding("image [red]x[/] uses latest", 7));
        Assert.Contains("\u001b[", coloured, StringComparison.Ordinal);
        Assert.Contains("image [red]x[/] uses latest", coloured, StringComparison.Ordinal);
        var stripped = System.Text.RegularExpressions.Regex.Replace(coloured, "\u001b\\[[0-9;]*m", string.Empty);
        Assert.Equal(plain, stripped);
    }
}
