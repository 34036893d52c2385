using YamlDotNet.RepresentationModel;

namespace Skjold.Detection.Falco;

/// <summary>How a rule item's keys apply: append and override of conditions, outputs, tags and exceptions, priorities, and exceptions turned into conditions.</summary>
public sealed partial class FalcoRuleSet
{
    private static void Apply(FalcoRule r, YamlMappingNode item, string key, string how, string at)
    {
        var append = how == "append";
        switch (key)
        {
            case "condition":
                r.Condition = append ? r.Condition + " " + Scalar(item, key) : Scalar(item, key) ?? string.Empty;
                break;
            case "output":
                r.Output = append ? r.Output + " " + Scalar(item, key) : Scalar(item, key) ?? string.Empty;
                break;
            case "desc":
                r.Description = append ? r.Description + " " + Scalar(item, key) : Scalar(item, key) ?? string.Empty;
                break;
            case "priority":
                r.Priority = ParsePriority(Scalar(item, key), at, r.Name);
                break;
            case "source":
                r.Source = Scalar(item, key) ?? "syscall";
                break;
            case "tags":
                r.Tags = append ? [.. r.Tags, .. Strings(Node(item, key))] : Strings(Node(item, key));
                break;
            case "enabled":
                r.Enabled = Bool(item, key, true);
                break;
            case "exceptions":
                var parsed = ParseExceptions(Node(item, key), at, r.Name);
                if (!append)
                {
                    r.Exceptions.Clear();
                }

                foreach (var e in parsed)
                {
                    // Appending an exception of an existing name adds its values.
                    if (append && r.Exceptions.Find(x => x.Name == e.Name) is { } same)
                    {
                        same.Values.AddRange(e.Values);
                    }
                    else
                    {
                        r.Exceptions.Add(e);
                    }
                }

                break;
        }
    }

    private static FalcoPriority ParsePriority(string? text, string at, string rule) => text?.ToUpperInvariant() switch
    {
        "EMERGENCY" => FalcoPriority.Emergency,
        "ALERT" => FalcoPriority.Alert,
        "CRITICAL" => FalcoPriority.Critical,
        "ERROR" => FalcoPriority.Error,
        "WARNING" => FalcoPriority.Warning,
        "NOTICE" => FalcoPriority.Notice,
        "INFO" or "INFORMATIONAL" => FalcoPriority.Informational,
        "DEBUG" => FalcoPriority.Debug,
        _ => throw new RuleLoadException($"{at}: rule '{rule}' has priority '{text}'; use emergency, alert, critical, error, warning, notice, informational or debug"),
    };

    private static List<FalcoException> ParseExceptions(YamlNode? node, string at, string rule)
    {
        var result = new List<FalcoException>();
        foreach (var n in (node as YamlSequenceNode)?.Children ?? [])
        {
            if (n is not YamlMappingNode m || Scalar(m, "name") is not { } name)
            {
                throw new RuleLoadException($"{at}: rule '{rule}': each exception needs a name");
            }

            var single = Node(m, "fields") is YamlScalarNode;
            var fields = Strings(Node(m, "fields"));
            var comps = Strings(Node(m, "comps"));
            if (comps.Count == 0)
            {
                comps = [.. fields.Select(_ => single ? "in" : "=")];
            }

            if (comps.Count != fields.Count)
            {
                throw new RuleLoadException($"{at}: rule '{rule}', exception '{name}': fields and comps differ in length");
            }

            var values = new List<IReadOnlyList<string>>();
            foreach (var v in (Node(m, "values") as YamlSequenceNode)?.Children ?? [])
            {
                values.Add(single ? [(v as YamlScalarNode)?.Value ?? string.Empty] : Strings(v));
            }

            result.Add(new FalcoException(name, fields, comps, values, single));
        }

        return result;
    }

    /// <summary>The rule's condition with its exceptions: cond and not ((f1 op v1 and f2 op v2) or ...).</summary>
    internal static string WithExceptions(FalcoRule r)
    {
        var clauses = new List<string>();
        foreach (var e in r.Exceptions)
        {
            if (e.SingleField)
            {
                if (e.Values.Count > 0)
                {
                    clauses.Add($"{e.Fields[0]} {e.Comps[0]} ({string.Join(", ", e.Values.Select(v => Quote(v[0])))})");
                }

                continue;
            }

            foreach (var tuple in e.Values)
            {
                if (tuple.Count != e.Fields.Count)
                {
                    throw new RuleLoadException($"{r.Location}: rule '{r.Name}', exception '{e.Name}': a value tuple has {tuple.Count} values for {e.Fields.Count} fields");
                }

                clauses.Add("(" + string.Join(" and ", e.Fields.Select((f, i) => e.Comps[i] is "in" or "intersects" or "pmatch"
                    ? $"{f} {e.Comps[i]} ({tuple[i]})"
                    : $"{f} {e.Comps[i]} {Quote(tuple[i])}")) + ")");
            }
        }

        return clauses.Count == 0 ? r.Condition : $"({r.Condition}) and not ({string.Join(" or ", clauses)})";
    }

    private static string Quote(string v) => v.StartsWith('(') ? v : "\"" + v.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
