using System.Globalization;
using System.Net;
using Skjold.Engine.Model;
using Skjold.Engine.Policy;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Skjold.Detection.Skjold;

/// <summary>Reads the <c>detection:</c> section of skjold.yaml; every problem is reported with file and line.</summary>
public static partial class DetectionConfig
{
    private static readonly string[] Keys =
    [
        "builtin", "disabled", "secretsAcrossNamespaces", "probing", "newBindingUsed", "clusterCidrs", "allowedSourceRanges",
        "productionNamespaces", "productionLabels", "skjoldNamespaces", "exceptions",
    ];

    /// <summary>The settings of a skjold.yaml, or null when it has no <c>detection:</c> section.</summary>
    public static DetectionSettings? Parse(string yaml, string file)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            throw new ConfigException($"not valid YAML: {ex.Message}", At(file, ex.Start));
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root
            || !root.Children.TryGetValue(new YamlScalarNode("detection"), out var section))
        {
            return null;
        }

        if (section is YamlScalarNode { Value: null or "" })
        {
            return DetectionSettings.Default with { Source = file };
        }

        if (section is not YamlMappingNode map)
        {
            throw new ConfigException("detection: expected a mapping", At(file, section.Start));
        }

        var errors = new List<ConfigException>();
        var s = DetectionSettings.Default with { Source = file };
        foreach (var (k, v) in map.Children)
        {
            var key = (k as YamlScalarNode)?.Value ?? "";
            try
            {
                s = key switch
                {
                    "builtin" => s with { Builtin = Bool(v, file, key) },
                    "disabled" => s with { Disabled = Strings(v, file, key) },
                    "secretsAcrossNamespaces" => s with { SecretsAcrossNamespaces = Threshold(v, file, key, "namespaces") },
                    "probing" => s with { Probing = Threshold(v, file, key, "denials") },
                    "newBindingUsed" => s with { NewBindingUsedWithin = Within(v, file, key) },
                    "clusterCidrs" => s with { ClusterCidrs = Networks(v, file, key) },
                    "allowedSourceRanges" => s with { AllowedSourceRanges = Networks(v, file, key) },
                    "productionNamespaces" => s with { ProductionNamespaces = Strings(v, file, key) },
                    "productionLabels" => s with { ProductionLabels = Labels(v, file, key) },
                    "skjoldNamespaces" => s with { SkjoldNamespaces = Strings(v, file, key) },
                    "exceptions" => s with { Exceptions = Exceptions(v, file, errors) },
                    _ => throw new ConfigException($"detection: unknown key '{key}'; expected one of: {string.Join(", ", Keys)}", At(file, k.Start)),
                };
            }
            catch (ConfigException ex)
            {
                errors.AddRange(ex.Errors);
            }
        }

        return errors.Count == 0 ? s : throw ConfigException.Of(errors);
    }

    private static IReadOnlyList<DetectionException> Exceptions(YamlNode node, string file, List<ConfigException> errors)
    {
        if (node is not YamlSequenceNode seq)
        {
            throw new ConfigException("detection.exceptions: expected a list", At(file, node.Start));
        }

        var list = new List<DetectionException>();
        var i = 0;
        foreach (var item in seq)
        {
            var prefix = $"detection.exceptions[{i++}]";
            try
            {
                if (item is not YamlMappingNode m)
                {
                    throw new ConfigException($"{prefix}: expected a mapping with rule and reason", At(file, item.Start));
                }

                string? rule = null, reason = null;
                DateTimeOffset? expires = null;
                IReadOnlyList<string> users = [], namespaces = [];
                IReadOnlyList<IPNetwork> ranges = [];
                foreach (var (k, v) in m.Children)
                {
                    var key = (k as YamlScalarNode)?.Value ?? "";
                    switch (key)
                    {
                        case "rule":
                            rule = Scalar(v, file, $"{prefix}.rule");
                            break;
                        case "reason":
                            reason = Scalar(v, file, $"{prefix}.reason");
                            break;
                        case "users":
                            users = Strings(v, file, $"{prefix}.users");
                            break;
                        case "namespaces":
                            namespaces = Strings(v, file, $"{prefix}.namespaces");
                            break;
                        case "sourceRanges":
                            ranges = Networks(v, file, $"{prefix}.sourceRanges");
                            break;
                        case "expires":
                            var text = Scalar(v, file, $"{prefix}.expires");
                            expires = DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var e)
                                ? e
                                : throw new ConfigException($"{prefix}.expires: '{text}' is not a date (YYYY-MM-DD)", At(file, v.Start));
                            break;
                        default:
                            throw new ConfigException($"{prefix}: unknown key '{key}'; expected rule, users, namespaces, sourceRanges, reason, expires", At(file, k.Start));
                    }
                }

                if (rule is null)
                {
                    throw new ConfigException($"{prefix}: 'rule' is required (the name of the rule the exception is for)", At(file, item.Start));
                }

                if (string.IsNullOrWhiteSpace(reason))
                {
                    throw new ConfigException($"{prefix}: 'reason' is required: say why this alert is accepted", At(file, item.Start));
                }

                list.Add(new DetectionException(rule, users, namespaces, ranges, reason, expires, At(file, item.Start)));
            }
            catch (ConfigException ex)
            {
                errors.AddRange(ex.Errors);
            }
        }

        return list;
    }

    private static Threshold Threshold(YamlNode node, string file, string key, string countKey)
    {
        if (node is not YamlMappingNode m)
        {
            throw new ConfigException($"detection.{key}: expected a mapping such as {{{countKey}: 3, within: 10m}}", At(file, node.Start));
        }

        int? count = null;
        TimeSpan? within = null;
        foreach (var (k, v) in m.Children)
        {
            var name = (k as YamlScalarNode)?.Value ?? "";
            if (name == countKey)
            {
                var text = Scalar(v, file, $"detection.{key}.{countKey}");
                count = int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1
                    ? n
                    : throw new ConfigException($"detection.{key}.{countKey}: '{text}' must be a whole number of at least 1", At(file, v.Start));
            }
            else if (name == "within")
            {
                within = Duration(v, file, $"detection.{key}.within");
            }
            else
            {
                throw new ConfigException($"detection.{key}: unknown key '{name}'; expected {countKey} and within", At(file, k.Start));
            }
        }

        return count is { } c && within is { } w ? new Threshold(c, w) : throw new ConfigException($"detection.{key}: needs both {countKey} and within", At(file, node.Start));
    }

    private static TimeSpan Within(YamlNode node, string file, string key)
    {
        if (node is not YamlMappingNode m || !m.Children.TryGetValue(new YamlScalarNode("within"), out var w) || m.Children.Count != 1)
        {
            throw new ConfigException($"detection.{key}: expected {{within: 30m}}", At(file, node.Start));
        }

        return Duration(w, file, $"detection.{key}.within");
    }

    private static TimeSpan Duration(YamlNode node, string file, string key)
    {
        var text = Scalar(node, file, key);
        return global::Skjold.Engine.Text.Durations.TryParse(text, out var d)
            ? d
            : throw new ConfigException($"{key}: '{text}' must be a duration such as 30s, 10m, 2h or 1d", At(file, node.Start));
    }

    private static IReadOnlyList<IPNetwork> Networks(YamlNode node, string file, string key)
    {
        var result = new List<IPNetwork>();
        foreach (var (text, at) in StringsAt(node, file, key))
        {
            var candidate = text.Contains('/', StringComparison.Ordinal) ? text : IPAddress.TryParse(text, out var a) ? $"{text}/{(a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 128 : 32)}" : text;
            if (!IPNetwork.TryParse(candidate, out var net))
            {
                throw new ConfigException($"{key}: '{text}' is not an address range such as 10.0.0.0/8 (the address must be the start of its range)", At(file, at));
            }

            result.Add(net);
        }

        return result;
    }

    private static IReadOnlyDictionary<string, string> Labels(YamlNode node, string file, string key)
    {
        if (node is not YamlMappingNode m)
        {
            throw new ConfigException($"detection.{key}: expected a mapping of label to value", At(file, node.Start));
        }

        return m.Children.ToDictionary(kv => Scalar(kv.Key, file, key), kv => Scalar(kv.Value, file, key), StringComparer.Ordinal);
    }

    private static IReadOnlyList<string> Strings(YamlNode node, string file, string key) => [.. StringsAt(node, file, key).Select(x => x.Text)];

    private static IEnumerable<(string Text, Mark At)> StringsAt(YamlNode node, string file, string key) => node switch
    {
        YamlSequenceNode s => s.Children.Select(c => (Scalar(c, file, key), c.Start)).ToList(),
        YamlScalarNode { Value: null or "" } => [],
        _ => throw new ConfigException($"{key}: expected a list", At(file, node.Start)),
    };

    private static bool Bool(YamlNode node, string file, string key)
    {
        var text = Scalar(node, file, key);
        return bool.TryParse(text, out var b) ? b : throw new ConfigException($"detection.{key}: '{text}' must be true or false", At(file, node.Start));
    }

    private static string Scalar(YamlNode node, string file, string key) =>
        (node as YamlScalarNode)?.Value ?? throw new ConfigException($"{key}: expected a single value", At(file, node.Start));

    private static SourceLocation At(string file, Mark mark) => new(file, (int)mark.Line, (int)mark.Column);
}
