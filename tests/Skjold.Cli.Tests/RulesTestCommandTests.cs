using System.Text.Json;
using Skjold.TestSupport;

namespace Skjold.Cli.Tests;

/// <summary><c>skjold rules test</c> and Skjold's own detections from the command line (--builtin, detection: in skjold.yaml).</summary>
public sealed class RulesTestCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-rulestest-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private CliRun Run(params string[] args) => CliRunner.Run(_dir, null, args);

    private static string Example(string name) => Path.Combine(RepoPaths.Root, "docs", "detection", name);

    [Fact]
    public void ShippedExampleCases_Pass()
    {
        var run = Run("rules", "test", Example("rules-tests.yaml"), "-r", Example("rules.yaml"), "--builtin");
        Assert.True(run.ExitCode == 0, run.Out + run.Error);
        Assert.Contains("4/4 cases passed", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void AFailingCase_ExitsOne_AndSaysWhatDiffered()
    {
        File.WriteAllText(Path.Combine(_dir, "cases.yaml"), """
            cases:
              - name: expects an alert that does not come
                events:
                  - {kind: Event, verb: get, user: {username: alice}, objectRef: {resource: pods, namespace: shop}, responseStatus: {code: 200}, stageTimestamp: "2026-12-02T10:00:00Z"}
                expect:
                  - {rule: Skjold repeated denials, count: 1}
              - name: nothing fires
                events:
                  - {kind: Event, verb: get, user: {username: alice}, objectRef: {resource: pods, namespace: shop}, responseStatus: {code: 200}, stageTimestamp: "2026-12-02T10:00:00Z"}
                expect: []
              - name: a misspelt rule
                events:
                  - {kind: Event, verb: get, user: {username: alice}, responseStatus: {code: 200}}
                expect:
                  - {rule: Skjold repeated denial, count: 0}
            """);
        var run = Run("rules", "test", "cases.yaml", "--builtin");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("FAIL  expects an alert that does not come: 'Skjold repeated denials' fired 0 times, expected 1", run.Out, StringComparison.Ordinal);
        Assert.Contains("PASS  nothing fires", run.Out, StringComparison.Ordinal);
        Assert.Contains("no rule is named 'Skjold repeated denial'", run.Out, StringComparison.Ordinal);
        Assert.Contains("1/3 cases passed", run.Out, StringComparison.Ordinal);

        var json = Run("rules", "test", "cases.yaml", "--builtin", "-f", "json");
        using var doc = JsonDocument.Parse(json.Out);
        Assert.Equal(2, doc.RootElement.GetProperty("failed").GetInt32());
    }

    [Theory]
    [InlineData("cases: 3\n", "a rule test file is a mapping with a list of cases")]
    [InlineData("cases:\n  - name: x\n    expect: []\n", "needs a name, events (or eventsFile) and expect")]
    [InlineData("cases:\n  - name: x\n    eventsFile: missing.jsonl\n    expect: []\n", "missing.jsonl not found")]
    [InlineData("cases:\n  - name: x\n    colour: red\n", "unknown key 'colour'")]
    public void BadCaseFiles_ExitTwo_NamingFileAndLine(string text, string expected)
    {
        File.WriteAllText(Path.Combine(_dir, "cases.yaml"), text);
        var run = Run("rules", "test", "cases.yaml", "--builtin");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("error: cases.yaml:", run.Error, StringComparison.Ordinal);
        Assert.Contains(expected, run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void NoRulesAtAll_IsAUsageError()
    {
        var run = Run("rules", "lint");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("no rules: give --rules FILE..., or --builtin", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void DetectionSection_TurnsOnSkjoldsDetections_WithItsThresholds_AndReportsConfigErrors()
    {
        File.Copy(Example("secret-harvest.jsonl"), Path.Combine(_dir, "audit.log"));
        File.WriteAllText(Path.Combine(_dir, "skjold.yaml"), "detection:\n  secretsAcrossNamespaces: {namespaces: 3, within: 10m}\n");
        var hit = Run("detect", "audit.log", "-f", "json");
        Assert.Equal(1, hit.ExitCode);
        Assert.Contains("Skjold secrets read across namespaces", hit.Out, StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(_dir, "skjold.yaml"), "detection:\n  secretsAcrossNamespaces: {namespaces: 5, within: 10m}\n");
        Assert.Equal(0, Run("detect", "audit.log").ExitCode); // four namespaces are not more than five

        File.WriteAllText(Path.Combine(_dir, "skjold.yaml"), "detection:\n  probing: {denials: many, within: 1m}\n");
        var bad = Run("rules", "list");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("skjold.yaml:2:", bad.Error, StringComparison.Ordinal);
        Assert.Contains("'many' must be a whole number", bad.Error, StringComparison.Ordinal);
    }
}
