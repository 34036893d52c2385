using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Skjold.Detection.Falco;

/// <summary>
/// Falco rule files for the k8s_audit source, loaded in order as Falco loads them (lists, macros
/// and rules; <c>append</c>, <c>override</c>, <c>enabled</c> and <c>exceptions</c>), then compiled
/// once. Rules of other sources are loaded but not compiled (their fields belong to other
/// plugins); <see cref="Evaluate"/> runs every enabled k8s_audit rule on an event.
/// </summary>
public sealed partial class FalcoRuleSet
{
    public const string Source = "k8s_audit";

    /// <summary>The alert raised when a rule fails on an event and is disabled.</summary>
    public const string RuleFailed = "Skjold rule disabled after an error";

    private readonly Dictionary<string, List<string>> _lists = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _macros = new(StringComparer.Ordinal);
    private readonly List<FalcoRule> _rules = [];
    private readonly Dictionary<string, FalcoRule> _byName = new(StringComparer.Ordinal);
    private List<FalcoRule> _compiled = [];
    private FieldTable _fields = new();

    [ThreadStatic]
    private static AuditEventView? t_view;

    public IReadOnlyList<FalcoRule> Rules => _rules;

    /// <summary>Loads a rule file (in addition to those loaded before), then recompiles every k8s_audit rule.</summary>
    public void Load(string yaml, string file)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            throw new RuleLoadException($"{file}:{ex.Start.Line}: not valid YAML: {ex.Message}");
        }

        foreach (var doc in stream.Documents)
        {
            if (doc.RootNode is YamlScalarNode { Value: null or "" })
            {
                continue;
            }

            if (doc.RootNode is not YamlSequenceNode items)
            {
                throw new RuleLoadException($"{file}:{doc.RootNode.Start.Line}: a rule file is a list of rule, macro and list items");
            }

            foreach (var node in items)
            {
                var at = $"{file}:{node.Start.Line}";
                if (node is not YamlMappingNode item)
                {
                    throw new RuleLoadException($"{at}: an item must be a mapping");
                }

                LoadItem(item, at);
            }
        }

        Compile();
    }

    private static string? Scalar(YamlMappingNode m, string key) => m.Children.TryGetValue(new YamlScalarNode(key), out var v) ? (v as YamlScalarNode)?.Value : null;

    private static YamlNode? Node(YamlMappingNode m, string key) => m.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : null;

    private static List<string> Strings(YamlNode? node) => node switch
    {
        YamlSequenceNode s => [.. s.Children.Select(c => (c as YamlScalarNode)?.Value ?? string.Empty)],
        YamlScalarNode { Value: { } v } => [v],
        _ => [],
    };

    private static bool Bool(YamlMappingNode m, string key, bool fallback) =>
        Scalar(m, key) is { } s ? s.Equals("true", StringComparison.OrdinalIgnoreCase) : fallback;

    /// <summary>override: {key: append|replace}.</summary>
    private static Dictionary<string, string> Overrides(YamlMappingNode m, string at)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Node(m, "override") is YamlMappingNode o)
        {
            foreach (var (k, v) in o.Children)
            {
                var how = (v as YamlScalarNode)?.Value;
                if (how is not ("append" or "replace"))
                {
                    throw new RuleLoadException($"{at}: override of '{(k as YamlScalarNode)?.Value}' must be append or replace");
                }

                result[((YamlScalarNode)k).Value!] = how;
            }
        }

        return result;
    }

    private void LoadItem(YamlMappingNode item, string at)
    {
        if (Scalar(item, "required_engine_version") is not null || Node(item, "required_plugin_versions") is not null)
        {
            return;
        }

        if (Scalar(item, "list") is { } list)
        {
            var items = Strings(Node(item, "items"));
            var how = Overrides(item, at).GetValueOrDefault("items") ?? (Bool(item, "append", false) ? "append" : null);
            if (how == "append")
            {
                if (!_lists.TryGetValue(list, out var existing))
                {
                    throw new RuleLoadException($"{at}: list '{list}' is appended to but was not defined before");
                }

                existing.AddRange(items);
            }
            else
            {
                _lists[list] = items;
            }

            return;
        }

        if (Scalar(item, "macro") is { } macro)
        {
            var condition = Scalar(item, "condition") ?? throw new RuleLoadException($"{at}: macro '{macro}' has no condition");
            var how = Overrides(item, at).GetValueOrDefault("condition") ?? (Bool(item, "append", false) ? "append" : null);
            if (how == "append")
            {
                if (!_macros.TryGetValue(macro, out var existing))
                {
                    throw new RuleLoadException($"{at}: macro '{macro}' is appended to but was not defined before");
                }

                _macros[macro] = existing + " " + condition;
            }
            else
            {
                _macros[macro] = condition;
            }

            return;
        }

        if (Scalar(item, "rule") is { } rule)
        {
            LoadRule(item, rule, at);
            return;
        }

        throw new RuleLoadException($"{at}: unknown item (expected rule, macro, list, required_engine_version or required_plugin_versions)");
    }

    private void LoadRule(YamlMappingNode item, string name, string at)
    {
        var overrides = Overrides(item, at);
        var append = Bool(item, "append", false);
        if (_byName.TryGetValue(name, out var existing) && (append || overrides.Count > 0 || (Node(item, "condition") is null && Node(item, "enabled") is not null)))
        {
            // A later item changes a rule defined before.
            foreach (var key in new[] { "condition", "output", "desc", "priority", "tags", "enabled", "exceptions", "source" })
            {
                if (Node(item, key) is null)
                {
                    continue;
                }

                var how = overrides.GetValueOrDefault(key) ?? (append ? "append" : "replace");
                Apply(existing, item, key, how, at);
            }

            return;
        }

        if (append || overrides.Count > 0)
        {
            throw new RuleLoadException($"{at}: rule '{name}' is appended to or overridden but was not defined before");
        }

        if (Node(item, "condition") is null && Node(item, "enabled") is not null)
        {
            throw new RuleLoadException($"{at}: rule '{name}' is enabled or disabled but was not defined before");
        }

        var r = new FalcoRule { Name = name, Location = at };
        foreach (var key in new[] { "condition", "output", "desc", "priority", "tags", "enabled", "exceptions", "source" })
        {
            if (Node(item, key) is not null)
            {
                Apply(r, item, key, "replace", at);
            }
        }

        if (string.IsNullOrWhiteSpace(r.Condition) || Node(item, "priority") is null || Node(item, "output") is null)
        {
            throw new RuleLoadException($"{at}: rule '{name}' needs a condition, an output and a priority");
        }

        if (_byName.TryGetValue(name, out var old))
        {
            _rules.Remove(old); // a rule of the same name replaces the earlier one
        }

        _rules.Add(r);
        _byName[name] = r;
    }

    private void Compile()
    {
        var lists = _lists.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value, StringComparer.Ordinal);
        var fields = new FieldTable();
        var compiler = new ConditionCompiler(_macros, lists, fields);
        var compiled = new List<FalcoRule>();
        foreach (var r in _rules)
        {
            if (r.Source != Source)
            {
                continue;
            }

            try
            {
                r.Compiled = compiler.Compile(WithExceptions(r));
                r.RenderOutput = OutputTemplate.Compile(r.Output);
            }
            catch (FormatException ex)
            {
                throw new RuleLoadException($"{r.Location}: rule '{r.Name}': {ex.Message}");
            }

            compiled.Add(r);
        }

        _compiled = compiled;
        _fields = fields;
    }

    /// <summary>Every enabled k8s_audit rule the event matches, in load order.</summary>
    public List<FalcoAlert> Evaluate(JsonElement audit)
    {
        List<FalcoAlert>? alerts = null;
        // One view per thread and compiled rule set: each field is extracted once per event.
        var view = t_view;
        if (view is null || !ReferenceEquals(view.Table, _fields))
        {
            t_view = view = new AuditEventView(_fields);
        }

        view.Reset(audit);
        foreach (var r in _compiled)
        {
            if (!r.Enabled)
            {
                continue;
            }

            try
            {
                if (r.Compiled!(view))
                {
                    (alerts ??= []).Add(new FalcoAlert(r.Name, r.Priority, r.RenderOutput!(audit), r.Tags, r.Source));
                }
            }
            catch (Exception ex) when (ex is RegexMatchTimeoutException or InvalidOperationException or FormatException or ArgumentException)
            {
                // A rule that fails on an event (a glob that backtracks past its time limit, ...) is
                // switched off and says so; it never takes the receiver down.
                r.Enabled = false;
                (alerts ??= []).Add(new FalcoAlert(RuleFailed, FalcoPriority.Error,
                    $"rule '{r.Name}' failed on an event and is disabled until the rules are reloaded: {ex.GetType().Name}: {ex.Message}", ["skjold"], Source));
            }
        }

        return alerts ?? [];
    }

    /// <summary>A priority as Falco prints it (WARNING, INFORMATIONAL, ...).</summary>
    public static string PriorityName(FalcoPriority p) => p.ToString().ToUpper(CultureInfo.InvariantCulture);
}
