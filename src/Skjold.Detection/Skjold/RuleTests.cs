using System.Text.Json;
using Skjold.Detection.Falco;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Skjold.Detection.Skjold;

/// <summary>One case of a rule test file: events in, the alerts expected out.</summary>
public sealed record RuleTestCase(string Name, IReadOnlyList<JsonElement> Events, IReadOnlyDictionary<string, int> Expected, bool Exact, int Line);

/// <summary>The outcome of one case: passed, or what differed.</summary>
public sealed record RuleTestResult(RuleTestCase Case, bool Passed, IReadOnlyDictionary<string, int> Fired, IReadOnlyList<string> Differences);

/// <summary>
/// Tests for detection rules, to run in CI beside the rules: a YAML file of cases, each a list of
/// audit events (inline, or a file of JSON lines) and the alerts expected, by rule and count.
/// <c>expect: []</c> means nothing may fire; with <c>only: false</c> rules not named may fire too.
/// Each case starts from fresh state, so stateful rules see only its own events, in order, on the
/// events' own timestamps.
/// </summary>
public static class RuleTests
{
    public static IReadOnlyList<RuleTestCase> Parse(string yaml, string file, string baseDirectory)
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

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root
            || !root.Children.TryGetValue(new YamlScalarNode("cases"), out var casesNode) || casesNode is not YamlSequenceNode cases)
        {
            throw new RuleLoadException($"{file}:1: a rule test file is a mapping with a list of cases: (name, events or eventsFile, expect)");
        }

        var result = new List<RuleTestCase>();
        foreach (var node in cases)
        {
            var line = (int)node.Start.Line;
            if (node is not YamlMappingNode c)
            {
                throw new RuleLoadException($"{file}:{line}: a case is a mapping with name, events and expect");
            }

            string? name = null;
            var events = new List<JsonElement>();
            var expected = new Dictionary<string, int>(StringComparer.Ordinal);
            var exact = true;
            var sawExpect = false;
            foreach (var (k, v) in c.Children)
            {
                var key = (k as YamlScalarNode)?.Value;
                switch (key)
                {
                    case "name":
                        name = (v as YamlScalarNode)?.Value;
                        break;
                    case "events":
                        if (v is not YamlSequenceNode list)
                        {
                            throw new RuleLoadException($"{file}:{v.Start.Line}: events: expected a list of audit events");
                        }

                        events.AddRange(list.Children.Select(e => ToJson(e, file)));
                        break;
                    case "eventsFile":
                        var path = Path.GetFullPath((v as YamlScalarNode)?.Value ?? "", baseDirectory);
                        if (!File.Exists(path))
                        {
                            throw new RuleLoadException($"{file}:{v.Start.Line}: eventsFile {path} not found");
                        }

                        foreach (var l in File.ReadLines(path).Where(l => l.Trim().Length > 0))
                        {
                            try
                            {
                                using var d = JsonDocument.Parse(l);
                                if (d.RootElement.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array)
                                {
                                    events.AddRange(items.EnumerateArray().Select(i => i.Clone()));
                                }
                                else
                                {
                                    events.Add(d.RootElement.Clone());
                                }
                            }
                            catch (JsonException ex)
                            {
                                throw new RuleLoadException($"{file}:{v.Start.Line}: {path}: a line is not JSON: {ex.Message}");
                            }
                        }

                        break;
                    case "expect":
                        sawExpect = true;
                        if (v is not YamlSequenceNode exp)
                        {
                            throw new RuleLoadException($"{file}:{v.Start.Line}: expect: a list of {{rule, count}} ([] for no alert)");
                        }

                        foreach (var item in exp)
                        {
                            if (item is YamlScalarNode { Value: { } only })
                            {
                                expected[only] = expected.GetValueOrDefault(only) + 1;
                                continue;
                            }

                            if (item is not YamlMappingNode m || !m.Children.TryGetValue(new YamlScalarNode("rule"), out var r) || (r as YamlScalarNode)?.Value is not { } rule)
                            {
                                throw new RuleLoadException($"{file}:{item.Start.Line}: an expected alert names its rule (rule: NAME, count: N)");
                            }

                            var count = 1;
                            if (m.Children.TryGetValue(new YamlScalarNode("count"), out var n) && !int.TryParse((n as YamlScalarNode)?.Value, out count))
                            {
                                throw new RuleLoadException($"{file}:{n.Start.Line}: count must be a whole number");
                            }

                            expected[rule] = count;
                        }

                        break;
                    case "only":
                        exact = !string.Equals((v as YamlScalarNode)?.Value, "false", StringComparison.OrdinalIgnoreCase);
                        break;
                    default:
                        throw new RuleLoadException($"{file}:{k.Start.Line}: unknown key '{key}' in a case; expected name, events, eventsFile, expect, only");
                }
            }

            if (name is null || !sawExpect || events.Count == 0)
            {
                throw new RuleLoadException($"{file}:{line}: a case needs a name, events (or eventsFile) and expect");
            }

            result.Add(new RuleTestCase(name, events, expected, exact, line));
        }

        return result;
    }

    /// <summary>Runs every case on a fresh engine from <paramref name="engine"/>.</summary>
    public static IReadOnlyList<RuleTestResult> Run(IReadOnlyList<RuleTestCase> cases, Func<DetectionEngine> engine, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(cases);
        ArgumentNullException.ThrowIfNull(engine);
        var results = new List<RuleTestResult>(cases.Count);
        foreach (var c in cases)
        {
            var e = engine();
            var fired = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var ev in c.Events)
            {
                foreach (var a in e.Evaluate(ev, DetectionEngine.EventTime(ev) ?? now))
                {
                    fired[a.Rule] = fired.GetValueOrDefault(a.Rule) + 1;
                }
            }

            var diffs = new List<string>();
            foreach (var (rule, count) in c.Expected)
            {
                var got = fired.GetValueOrDefault(rule);
                if (got != count)
                {
                    diffs.Add($"'{rule}' fired {got} times, expected {count}");
                }
            }

            if (c.Exact)
            {
                diffs.AddRange(fired.Where(f => !c.Expected.ContainsKey(f.Key)).Select(f => $"'{f.Key}' fired {f.Value} times, not expected"));
            }

            if (c.Expected.Keys.Any(r => !e.Rules.Rules.Any(x => x.Name == r) && !e.Stateful.Any(s => s.Name == r)))
            {
                diffs.AddRange(c.Expected.Keys.Where(r => !e.Rules.Rules.Any(x => x.Name == r) && !e.Stateful.Any(s => s.Name == r)).Select(r => $"no rule is named '{r}'"));
            }

            results.Add(new RuleTestResult(c, diffs.Count == 0, fired, diffs));
        }

        return results;
    }

    /// <summary>A YAML node as JSON (scalars typed as YAML 1.2 core: numbers, booleans, null, else strings; quoted scalars stay strings).</summary>
    private static JsonElement ToJson(YamlNode node, string file)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            Write(node, w, file, 0);
        }

        using var doc = JsonDocument.Parse(buffer.ToArray());
        return doc.RootElement.Clone();
    }

    private static void Write(YamlNode node, Utf8JsonWriter w, string file, int depth)
    {
        if (depth > 64)
        {
            throw new RuleLoadException($"{file}:{node.Start.Line}: an event nests deeper than 64 levels");
        }

        switch (node)
        {
            case YamlMappingNode m:
                w.WriteStartObject();
                foreach (var (k, v) in m.Children)
                {
                    w.WritePropertyName((k as YamlScalarNode)?.Value ?? "");
                    Write(v, w, file, depth + 1);
                }

                w.WriteEndObject();
                break;
            case YamlSequenceNode s:
                w.WriteStartArray();
                foreach (var c in s)
                {
                    Write(c, w, file, depth + 1);
                }

                w.WriteEndArray();
                break;
            case YamlScalarNode { Style: ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted } q:
                w.WriteStringValue(q.Value);
                break;
            case YamlScalarNode sc:
                var v2 = sc.Value ?? "";
                if (v2 is "null" or "~" or "")
                {
                    w.WriteNullValue();
                }
                else if (v2 is "true" or "false")
                {
                    w.WriteBooleanValue(v2 == "true");
                }
                else if (long.TryParse(v2, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var n))
                {
                    w.WriteNumberValue(n);
                }
                else
                {
                    w.WriteStringValue(v2);
                }

                break;
        }
    }
}
