using System.Globalization;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Skjold.Engine.Policy;

/// <summary>Readers for the parts of sections: attestations, exemptions, label selectors, check references, and the mapping, sequence and scalar nodes they are made of.</summary>
public static partial class ConfigParser
{
    private static Compliance.Attestation ParseAttestation(YamlMappingNode node, string file, int index)
    {
        string? framework = null, control = null, by = null, evidence = null, note = null;
        DateOnly? date = null;
        var validDays = 365;
        var key = $"attestations[{index}]";
        foreach (var (k, v) in Entries(node, file, "framework", "control", "by", "date", "validDays", "evidence", "note"))
        {
            var text = Scalar(v, file, $"{key}.{k}");
            switch (k)
            {
                case "framework":
                    if (Compliance.FrameworkCatalog.Default.Find(text) is null)
                    {
                        throw new ConfigException($"{key}.framework: unknown framework '{text}'; known: {string.Join(", ", Compliance.FrameworkCatalog.Default.Frameworks.Select(f => f.Id))}", At(file, v.Start));
                    }

                    framework = text;
                    break;
                case "control":
                    control = text;
                    break;
                case "by":
                    by = text;
                    break;
                case "evidence":
                    evidence = text;
                    break;
                case "note":
                    note = text;
                    break;
                case "date":
                    if (!DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
                    {
                        throw new ConfigException($"{key}.date: '{text}' is not a date (YYYY-MM-DD)", At(file, v.Start));
                    }

                    date = d;
                    break;
                case "validDays":
                    if (!int.TryParse(text, CultureInfo.InvariantCulture, out validDays) || validDays < 1)
                    {
                        throw new ConfigException($"{key}.validDays: '{text}' is not a positive number of days", At(file, v.Start));
                    }

                    break;
                default:
                    break;
            }
        }

        if (framework is null || control is null || by is null || date is null || evidence is null)
        {
            throw new ConfigException($"{key}: an attestation needs framework, control, by, date and evidence", At(file, node.Start));
        }

        if (Compliance.FrameworkCatalog.Default.Find(framework)!.Control(control) is null)
        {
            throw new ConfigException($"{key}.control: '{control}' is not a control of {framework}", At(file, node.Start));
        }

        return new Compliance.Attestation(framework, control, by, date.Value, validDays, evidence, note, At(file, node.Start));
    }
    private static Exemption ParseExemption(YamlMappingNode node, string file, int index, CheckCatalog catalog)
    {
        var prefix = $"exemptions[{index}]";
        List<string> checks = [], namespaces = [], kinds = [], names = [];
        LabelSelector? selector = null;
        string? reason = null;
        DateOnly? expires = null;
        foreach (var (k, v) in Entries(node, file, "checks", "namespaces", "kinds", "names", "selector", "reason", "expires"))
        {
            var key = $"{prefix}.{k}";
            switch (k)
            {
                case "checks":
                    foreach (var item in Sequence(v, file, key))
                    {
                        var id = Scalar(item, file, key);
                        RequireCheck(catalog, id, file, item, key);

                        checks.Add(id);
                    }

                    break;
                case "namespaces":
                    namespaces.AddRange(Sequence(v, file, key).Select(n => Scalar(n, file, key)));
                    break;
                case "kinds":
                    kinds.AddRange(Sequence(v, file, key).Select(n => Scalar(n, file, key)));
                    break;
                case "names":
                    names.AddRange(Sequence(v, file, key).Select(n => Scalar(n, file, key)));
                    break;
                case "selector":
                    selector = ParseSelector(Map(v, file, key), file, key);
                    break;
                case "reason":
                    reason = Scalar(v, file, key);
                    break;
                case "expires":
                    var text = Scalar(v, file, key);
                    if (!DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
                    {
                        throw new ConfigException($"{key}: '{text}' is not a date; write it as YYYY-MM-DD", At(file, v.Start));
                    }

                    expires = date;
                    break;
                default:
                    break;
            }
        }

        if (checks.Count == 0)
        {
            throw new ConfigException($"{prefix}.checks: an exemption must list the checks it covers (use \"*\" for all)", At(file, node.Start));
        }

        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new ConfigException($"{prefix}.reason: an exemption needs a reason, so that auditors can see why it exists", At(file, node.Start));
        }

        return new Exemption(checks, namespaces, kinds, names, selector, reason, expires, At(file, node.Start));
    }

    private static LabelSelector ParseSelector(YamlMappingNode node, string file, string prefix)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var expressions = new List<LabelSelectorRequirement>();
        foreach (var (k, v) in Entries(node, file, "matchLabels", "matchExpressions"))
        {
            if (k == "matchLabels")
            {
                foreach (var (lk, lv) in Entries(Map(v, file, $"{prefix}.matchLabels"), file))
                {
                    labels[lk] = Scalar(lv, file, $"{prefix}.matchLabels.{lk}");
                }

                continue;
            }

            foreach (var item in Sequence(v, file, $"{prefix}.matchExpressions"))
            {
                string? key = null, op = null;
                var values = new List<string>();
                foreach (var (ek, ev) in Entries(Map(item, file, $"{prefix}.matchExpressions"), file, "key", "operator", "values"))
                {
                    if (ek == "values")
                    {
                        values.AddRange(Sequence(ev, file, $"{prefix}.matchExpressions.values").Select(x => Scalar(x, file, "values")));
                    }
                    else if (ek == "key")
                    {
                        key = Scalar(ev, file, "key");
                    }
                    else
                    {
                        op = Scalar(ev, file, "operator");
                    }
                }

                var parsedOp = op switch
                {
                    "In" => LabelOperator.In,
                    "NotIn" => LabelOperator.NotIn,
                    "Exists" => LabelOperator.Exists,
                    "DoesNotExist" => LabelOperator.DoesNotExist,
                    _ => throw new ConfigException($"{prefix}.matchExpressions: operator '{op}' is not In, NotIn, Exists or DoesNotExist", At(file, item.Start)),
                };
                if (string.IsNullOrEmpty(key))
                {
                    throw new ConfigException($"{prefix}.matchExpressions: each expression needs a key", At(file, item.Start));
                }

                expressions.Add(new LabelSelectorRequirement(key, parsedOp, values));
            }
        }

        return new LabelSelector(labels, expressions);
    }

    private static void RequireCheck(CheckCatalog catalog, string id, string file, YamlNode node, string key)
    {
        if (id.EndsWith('*'))
        {
            if (!catalog.All.Any(c => Exemption.Glob(id, c.Id)))
            {
                throw new ConfigException($"{key}: pattern '{id}' matches no check (run 'skjold checks' for the list)", At(file, node.Start));
            }

            return;
        }

        if (!catalog.Contains(id))
        {
            throw new ConfigException($"{key}: unknown check '{id}' (run 'skjold checks' for the list)", At(file, node.Start));
        }
    }

    private static IEnumerable<(string Key, YamlNode Value)> Entries(YamlMappingNode node, string file, params string[] allowed)
    {
        foreach (var (k, v) in node.Children)
        {
            var key = (k as YamlScalarNode)?.Value ?? throw new ConfigException("keys must be plain strings", At(file, k.Start));
            if (allowed.Length > 0 && Array.IndexOf(allowed, key) < 0)
            {
                var unknown = new ConfigException($"unknown key '{key}'; expected one of: {string.Join(", ", allowed)}", At(file, k.Start));
                if (t_errors is null)
                {
                    throw unknown;
                }

                t_errors.Add(unknown); // reported; the keys after it are still read
                continue;
            }

            yield return (key, v);
        }
    }

    private static YamlMappingNode Map(YamlNode node, string file, string key) =>
        node as YamlMappingNode ?? throw new ConfigException($"{key}: expected a mapping", At(file, node.Start));

    private static IEnumerable<YamlNode> Sequence(YamlNode node, string file, string key) => node switch
    {
        YamlSequenceNode s => s.Children,
        YamlScalarNode { Value: null or "" } => [],
        _ => throw new ConfigException($"{key}: expected a list", At(file, node.Start)),
    };

    private static string Scalar(YamlNode node, string file, string key) =>
        (node as YamlScalarNode)?.Value ?? throw new ConfigException($"{key}: expected a single value", At(file, node.Start));

    private static SourceLocation At(string file, Mark mark) => new(file, (int)mark.Line, (int)mark.Column);
}
