using System.Text.Json.Nodes;
using Skjold.Detection.Falco;

namespace Skjold.Detection.Skjold;

/// <summary>One rule as <c>rules list</c> shows it: a Falco rule (after append and override) or one of Skjold's stateful rules.</summary>
public sealed record RuleListing(string Name, FalcoPriority Priority, string Source, bool Enabled, IReadOnlyList<string> Tags, string Defined, string Kind);

/// <summary>
/// How every host composes the rules it runs: Skjold's own detections first (so rule files can append to their
/// lists), then the rule files in order; and what a loaded set holds, as rows and as JSON.
/// </summary>
public static class DetectionRules
{
    /// <summary>
    /// The settings that apply: the configuration's detection: section (null when it has none), with
    /// <paramref name="builtin"/> (a command line's --builtin) switching Skjold's own detections on over it.
    /// </summary>
    public static DetectionSettings? Effective(DetectionSettings? configured, bool builtin) => configured switch
    {
        null => builtin ? DetectionSettings.Default : null,
        { Builtin: false } when builtin => configured with { Builtin = true },
        _ => configured,
    };

    /// <summary>
    /// The engine for <paramref name="files"/> (name and text, loaded in order) over the effective settings; null
    /// when nothing was asked for (no files and no built-in rules). Throws <see cref="RuleLoadException"/> naming
    /// file, line and rule when a file does not load.
    /// </summary>
    public static DetectionEngine? Build(DetectionSettings? settings, IEnumerable<(string Name, Func<string> Text)> files,
        Func<string, IReadOnlyDictionary<string, string>?>? namespaceLabels = null)
    {
        var list = files.ToList();
        if (list.Count == 0 && settings is not { Builtin: true })
        {
            return null;
        }

        var set = new FalcoRuleSet();
        if (settings is { Builtin: true })
        {
            DetectionEngine.LoadBuiltin(set, settings);
        }

        foreach (var (name, text) in list)
        {
            set.Load(text(), name);
        }

        return new DetectionEngine(set, settings, namespaceLabels);
    }

    /// <summary>Every rule of the engine: the Falco rules in load order, then the stateful ones.</summary>
    public static IReadOnlyList<RuleListing> List(DetectionEngine engine) =>
        [.. engine.Rules.Rules.Select(r => new RuleListing(r.Name, r.Priority, r.Source, r.Enabled, r.Tags, r.Location, "rule"))
            .Concat(engine.Stateful.Select(r => new RuleListing(r.Name, r.Priority, FalcoRuleSet.Source, true, r.Tags, "skjold (stateful)", "stateful")))];

    public static JsonArray ListJson(IEnumerable<RuleListing> rows) => new([.. rows.Select(r => (JsonNode)new JsonObject
    {
        ["name"] = r.Name,
        ["priority"] = r.Priority.ToString(),
        ["source"] = r.Source,
        ["enabled"] = r.Enabled,
        ["kind"] = r.Kind,
        ["tags"] = new JsonArray([.. r.Tags.Select(t => (JsonNode)t)]),
        ["defined"] = r.Defined,
    })]);

    /// <summary>One line per rule: priority, on or off, source, name and tags.</summary>
    public static string ListLine(RuleListing r) => $"{FalcoRuleSet.PriorityName(r.Priority),-13} {(r.Enabled ? "on " : "off")} {r.Source,-10} {r.Name}  [{string.Join(", ", r.Tags)}]";

    /// <summary>The lint verdict: how many rules loaded and compiled, of which sources, and how many are disabled.</summary>
    public static string LintSummary(DetectionEngine engine)
    {
        var set = engine.Rules;
        var k8s = set.Rules.Count(r => r.Source == FalcoRuleSet.Source);
        return $"OK: {set.Rules.Count} rules ({k8s} for k8s_audit, compiled; {set.Rules.Count - k8s} of other sources, not run), {set.Rules.Count(r => !r.Enabled)} disabled"
            + (engine.Stateful.Count > 0 ? $"; {engine.Stateful.Count} stateful rules" : "");
    }

    /// <summary>The results of <c>rules test</c> as JSON: counts, then each case with what fired and how it differs.</summary>
    public static JsonObject TestJson(IReadOnlyList<RuleTestResult> all) => new()
    {
        ["cases"] = all.Count,
        ["failed"] = all.Count(r => !r.Passed),
        ["results"] = new JsonArray([.. all.Select(r => (JsonNode)new JsonObject
        {
            ["name"] = r.Case.Name,
            ["passed"] = r.Passed,
            ["fired"] = new JsonObject(r.Fired.Select(f => KeyValuePair.Create(f.Key, (JsonNode?)f.Value))),
            ["differences"] = new JsonArray([.. r.Differences.Select(d => (JsonNode)d)]),
        })]),
    };

    /// <summary>One line per case (PASS or FAIL with the differences).</summary>
    public static string TestLine(RuleTestResult r) => $"{(r.Passed ? "PASS" : "FAIL")}  {r.Case.Name}{(r.Passed ? "" : ": " + string.Join("; ", r.Differences))}";
}
