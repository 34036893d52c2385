using Skjold.Detection.Falco;
using Skjold.Detection.Skjold;

namespace Skjold.Detection.Tests;

/// <summary>How hosts compose the rules they run (built-in first, then files in order) and what rules list, lint and test print.</summary>
public sealed class DetectionRulesTests
{
    private const string Extra = """
        - rule: Exec into a pod
          desc: someone ran kubectl exec
          condition: ka.verb=create and ka.target.subresource=exec
          output: exec by %ka.user.name
          priority: WARNING
          source: k8s_audit
          tags: [k8s, test]
        - rule: Syscall rule
          desc: not ours
          condition: evt.type=open
          output: open
          priority: INFO
          enabled: false
        """;

    [Fact]
    public void Effective_BuiltinFlagSwitchesTheBuiltinRulesOn_OverAConfigThatTurnedThemOff()
    {
        Assert.Null(DetectionRules.Effective(null, builtin: false));
        Assert.True(DetectionRules.Effective(null, builtin: true)!.Builtin);
        var off = DetectionSettings.Default with { Builtin = false };
        Assert.False(DetectionRules.Effective(off, builtin: false)!.Builtin);
        Assert.True(DetectionRules.Effective(off, builtin: true)!.Builtin);
        Assert.Same(DetectionSettings.Default, DetectionRules.Effective(DetectionSettings.Default, builtin: false));
    }

    [Fact]
    public void Build_NothingAskedFor_NoEngine_AndTheFileIsNotRead()
    {
        var read = false;
        Assert.Null(DetectionRules.Build(null, []));
        Assert.Null(DetectionRules.Build(DetectionSettings.Default with { Builtin = false }, []));
        Assert.NotNull(DetectionRules.Build(null, [("extra.yaml", () => { read = true; return Extra; })]));
        Assert.True(read);
    }

    [Fact]
    public void Build_BuiltinThenFiles_ListedInLoadOrderWithTheStatefulRulesLast()
    {
        var engine = DetectionRules.Build(DetectionSettings.Default, [("extra.yaml", () => Extra)])!;
        var rows = DetectionRules.List(engine).ToList();

        var exec = rows.Single(r => r.Name == "Exec into a pod");
        Assert.Equal(FalcoPriority.Warning, exec.Priority);
        Assert.True(exec.Enabled);
        Assert.Equal(["k8s", "test"], exec.Tags);
        Assert.StartsWith("extra.yaml", exec.Defined, StringComparison.Ordinal);
        Assert.True(rows.IndexOf(exec) > rows.IndexOf(rows.First(r => r.Defined.StartsWith(DetectionEngine.BuiltinFile, StringComparison.Ordinal))));
        Assert.Equal(engine.Stateful.Count, rows.Count(r => r.Kind == "stateful"));
        Assert.All(rows.SkipWhile(r => r.Kind == "rule"), r => Assert.Equal("stateful", r.Kind));
        Assert.Contains("off", DetectionRules.ListLine(rows.Single(r => r.Name == "Syscall rule")), StringComparison.Ordinal);
        Assert.Equal(rows.Count, DetectionRules.ListJson(rows).Count);
    }

    [Fact]
    public void Build_ABrokenFile_ThrowsNamingTheFile()
    {
        var broken = "- rule: Broken\n  desc: d\n  condition: ka.verb=\n  output: o\n  priority: WARNING\n  source: k8s_audit\n";
        var ex = Assert.Throws<RuleLoadException>(() => DetectionRules.Build(null, [("broken.yaml", () => broken)]));
        Assert.Contains("broken.yaml", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LintSummary_CountsSourcesAndDisabledRules()
    {
        var engine = DetectionRules.Build(null, [("extra.yaml", () => Extra)])!;
        Assert.Equal("OK: 2 rules (1 for k8s_audit, compiled; 1 of other sources, not run), 1 disabled", DetectionRules.LintSummary(engine));
    }
}
