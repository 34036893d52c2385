using System.Globalization;
using Skjold.Engine.Model;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Skjold.Engine.Policy;

/// <summary>
/// Typed, strict reads of one mapping of skjold.yaml for the sections other libraries own (supplyChain:,
/// and the like): an unknown key, a wrong type or a bad value is recorded with file, line and the key's
/// path, and reading goes on, so one run reports every problem of the section.
/// </summary>
public sealed class YamlMap
{
    private readonly Dictionary<string, YamlNode> _values = new(StringComparer.Ordinal);
    private readonly string _file;
    private readonly List<ConfigException> _errors;

    private YamlMap(YamlMappingNode node, string path, string file, List<ConfigException> errors, IReadOnlyCollection<string> allowed)
    {
        Node = node;
        Path = path;
        _file = file;
        _errors = errors;
        foreach (var (k, v) in node.Children)
        {
            if (k is not YamlScalarNode { Value: { } key })
            {
                errors.Add(new ConfigException($"{path}: keys must be plain strings", At(file, k.Start)));
                continue;
            }

            if (!allowed.Contains(key))
            {
                errors.Add(new ConfigException($"{path}: unknown key '{key}'; expected one of: {string.Join(", ", allowed)}", At(file, k.Start)));
                continue;
            }

            _values[key] = v;
        }
    }

    public YamlMappingNode Node { get; }

    /// <summary>The key path in messages: supplyChain.images[payments].</summary>
    public string Path { get; }

    public IReadOnlyList<ConfigException> Errors => _errors;

    /// <summary>The top-level <paramref name="section"/> of a skjold.yaml, or null when the file has none; YAML errors throw at once.</summary>
    public static YamlMap? Section(string yaml, string file, string section, IReadOnlyCollection<string> allowed)
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
            || !root.Children.TryGetValue(new YamlScalarNode(section), out var node) || node is YamlScalarNode { Value: null or "" })
        {
            return null;
        }

        return node is YamlMappingNode map
            ? new YamlMap(map, section, file, [], allowed)
            : throw new ConfigException($"{section}: expected a mapping", At(file, node.Start));
    }

    /// <summary>Throws every recorded problem at once, if there are any.</summary>
    public void ThrowIfErrors()
    {
        if (_errors.Count > 0)
        {
            throw ConfigException.Of(_errors);
        }
    }

    public bool Has(string key) => _values.ContainsKey(key);

    public SourceLocation Location(string? key = null) => At(_file, key is not null && _values.TryGetValue(key, out var v) ? v.Start : Node.Start);

    public void Fail(string key, string message) => _errors.Add(new ConfigException($"{Path}.{key}: {message}", Location(key)));

    public string? String(string key)
    {
        if (!_values.TryGetValue(key, out var v))
        {
            return null;
        }

        if (v is YamlScalarNode { Value: { Length: > 0 } s })
        {
            return s;
        }

        Fail(key, "expected a value");
        return null;
    }

    public string? Enum(string key, params string[] allowed)
    {
        var s = String(key);
        if (s is not null && Array.IndexOf(allowed, s) < 0)
        {
            Fail(key, $"'{s}' is not one of: {string.Join(", ", allowed)}");
            return null;
        }

        return s;
    }

    public bool? Bool(string key)
    {
        var s = String(key);
        if (s is null)
        {
            return null;
        }

        if (bool.TryParse(s, out var b))
        {
            return b;
        }

        Fail(key, $"'{s}' must be true or false");
        return null;
    }

    public int? Int(string key, int min, int max)
    {
        var s = String(key);
        if (s is null)
        {
            return null;
        }

        if (int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max)
        {
            return n;
        }

        Fail(key, $"'{s}' must be a whole number from {min} to {max}");
        return null;
    }

    public TimeSpan? Duration(string key)
    {
        var s = String(key);
        if (s is null)
        {
            return null;
        }

        if (Text.Durations.TryParse(s, out var d))
        {
            return d;
        }

        Fail(key, $"'{s}' must be a duration such as 500ms, 30s, 5m, 1h or 7d");
        return null;
    }

    public DateOnly? Date(string key)
    {
        var s = String(key);
        if (s is null)
        {
            return null;
        }

        if (DateOnly.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
        {
            return d;
        }

        Fail(key, $"'{s}' must be a date (YYYY-MM-DD)");
        return null;
    }

    /// <summary>A list of non-empty strings (a single string counts as a list of one).</summary>
    public IReadOnlyList<string> Strings(string key)
    {
        if (!_values.TryGetValue(key, out var v))
        {
            return [];
        }

        if (v is YamlScalarNode { Value: { Length: > 0 } one })
        {
            return [one];
        }

        if (v is not YamlSequenceNode seq)
        {
            Fail(key, "expected a list of strings");
            return [];
        }

        var result = new List<string>();
        foreach (var item in seq.Children)
        {
            if (item is YamlScalarNode { Value: { Length: > 0 } s })
            {
                result.Add(s);
            }
            else
            {
                _errors.Add(new ConfigException($"{Path}.{key}: every entry must be a non-empty string", At(_file, item.Start)));
            }
        }

        return result;
    }

    /// <summary>A nested mapping, or null when absent (or not a mapping, which is recorded).</summary>
    public YamlMap? Map(string key, IReadOnlyCollection<string> allowed)
    {
        if (!_values.TryGetValue(key, out var v))
        {
            return null;
        }

        if (v is YamlMappingNode m)
        {
            return new YamlMap(m, $"{Path}.{key}", _file, _errors, allowed);
        }

        Fail(key, "expected a mapping");
        return null;
    }

    /// <summary>A list of mappings; <paramref name="name"/> picks the key that names an item in messages (else its index).</summary>
    public IReadOnlyList<YamlMap> Maps(string key, IReadOnlyCollection<string> allowed, string? name = null)
    {
        if (!_values.TryGetValue(key, out var v))
        {
            return [];
        }

        if (v is not YamlSequenceNode seq)
        {
            Fail(key, "expected a list");
            return [];
        }

        var result = new List<YamlMap>();
        var i = 0;
        foreach (var item in seq.Children)
        {
            if (item is YamlMappingNode m)
            {
                var label = name is not null && m.Children.TryGetValue(new YamlScalarNode(name), out var n) && n is YamlScalarNode { Value: { Length: > 0 } nv } ? nv : i.ToString(CultureInfo.InvariantCulture);
                result.Add(new YamlMap(m, $"{Path}.{key}[{label}]", _file, _errors, allowed));
            }
            else
            {
                _errors.Add(new ConfigException($"{Path}.{key}[{i}]: expected a mapping", At(_file, item.Start)));
            }

            i++;
        }

        return result;
    }

    private static SourceLocation At(string file, Mark mark) => new(file, (int)mark.Line, (int)mark.Column);
}
