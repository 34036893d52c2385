using System.Text.Json;
using Skjold.TestSupport;

namespace Skjold.Cli.Tests;

/// <summary>Tables people can read: fitted to a terminal, plain when piped, most severe first, every finding placed.</summary>
public sealed class TableOutputTests
{
    private static string Root => RepoPaths.Root;

    private static readonly string[] Severities = ["critical", "high", "medium", "low", "info"];

    private static List<JsonElement> JsonFindings() =>
        [.. JsonDocument.Parse(CliRunner.Run(Root, null, "scan", "examples", "-f", "json").Out).RootElement.GetProperty("findings").EnumerateArray()];

    private static int Rank(string severity) => Array.IndexOf(Severities, severity);

    [Fact]
    public void OnA80ColumnTerminal_NoLineIsWider_AndNoWordIsSplit()
    {
        var run = CliRunner.RunOnTerminal(Root, "scan", "examples");

        var lines = run.Out.Split('\n');
        Assert.All(lines, l => Assert.True(l.TrimEnd().Length <= 80, $"{l.Length} columns: {l}"));
        var text = " " + string.Join(' ', lines.Select(l => l.Trim())) + " ";
        foreach (var f in JsonFindings())
        {
            foreach (var word in f.GetProperty("message").GetString()!.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => w.Length < 60))
            {
                Assert.Contains(" " + word + " ", text, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Piped_IsPlainColumns_WithoutPaddingOrWrapping_AndEveryFindingHasItsFileAndLine()
    {
        var run = CliRunner.Run(Root, null, "scan", "examples");
        var findings = JsonFindings();

        var lines = run.Out.Split('\n');
        Assert.DoesNotContain(lines, l => l.EndsWith(' '));
        Assert.DoesNotContain(lines, l => l.Contains('─') || l.Contains('│'));
        var rows = lines.Where(l => Severities.Any(s => l.StartsWith("  " + s + " ", StringComparison.Ordinal))).ToList();
        Assert.Equal(findings.Count, rows.Count); // one line per finding: nothing wrapped
        foreach (var f in findings)
        {
            var at = $"{f.GetProperty("location").GetProperty("file").GetString()}:{f.GetProperty("location").GetProperty("line").GetInt32()}";
            Assert.Contains(rows, r => r.Contains(f.GetProperty("checkId").GetString()!, StringComparison.Ordinal) && r.Contains(at, StringComparison.Ordinal));
        }

        Assert.Matches(@"\d+ findings \(\d+ critical, \d+ high, \d+ medium, \d+ low, \d+ info\)", run.Out);
    }

    [Fact]
    public void MostSevereFirst_ResourcesByTheirWorstFinding_ThenFindingsBySeverity()
    {
        var run = CliRunner.Run(Root, null, "scan", "examples");

        var worst = new List<int>();
        var current = new List<int>();
        foreach (var line in run.Out.Split('\n'))
        {
            if (Severities.FirstOrDefault(s => line.StartsWith("  " + s + " ", StringComparison.Ordinal)) is { } s)
            {
                current.Add(Rank(s));
            }
            else if (line.Length == 0 && current.Count > 0)
            {
                Assert.Equal(current.Order(), current); // within a resource: most severe first
                worst.Add(current.Min());
                current = [];
            }
        }

        Assert.True(worst.Count > 3);
        Assert.Equal(worst.Order(), worst);
        Assert.Equal(0, worst[0]); // the examples have a critical finding: its resource leads
    }

    [Fact]
    public void SeverityFilter_ShowsOnlyThose_AndTheExitCodeStillCountsAll()
    {
        var all = CliRunner.Run(Root, null, "scan", "examples", "--fail-on", "low");
        var filtered = CliRunner.Run(Root, null, "scan", "examples", "--severity", "critical,high", "--fail-on", "low");

        Assert.Equal(all.ExitCode, filtered.ExitCode);
        var shown = filtered.Out.Split('\n').Where(l => Severities.Any(s => l.StartsWith("  " + s + " ", StringComparison.Ordinal))).ToList();
        Assert.NotEmpty(shown);
        Assert.All(shown, l => Assert.True(l.StartsWith("  critical ", StringComparison.Ordinal) || l.StartsWith("  high ", StringComparison.Ordinal), l));
        Assert.Contains("(showing critical, high)", filtered.Out, StringComparison.Ordinal);
        Assert.Equal(2, CliRunner.Run(Root, null, "scan", "examples", "--severity", "severe").ExitCode);
    }

    [Fact]
    public void Wide_AddsEachFindingsPath()
    {
        var plain = CliRunner.Run(Root, null, "scan", "examples");
        var wide = CliRunner.Run(Root, null, "scan", "examples", "-f", "wide");

        Assert.DoesNotContain("spec.template.spec.containers[0].securityContext.privileged", plain.Out, StringComparison.Ordinal);
        Assert.Contains("spec.template.spec.containers[0].securityContext.privileged", wide.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--color", "always" }, true)]
    [InlineData(new[] { "--color", "never" }, false)]
    [InlineData(new[] { "--no-color" }, false)]
    public void ColorFlags_OnEveryCommand(string[] flags, bool escapes)
    {
        foreach (var command in new[] { new[] { "scan", "examples" }, ["checks"], ["rbac", "who-can", "get", "secrets", "snapshots/example-cluster.json"] })
        {
            var run = CliRunner.Run(Root, null, [.. command, .. flags]);
            Assert.Equal(escapes, run.Out.Contains('\u001b'));
        }
    }
}
