namespace Skjold.Audit.Events;

/// <summary>
/// The log's extra redaction rules, kept beside its keys (audit-redaction.rules) so that every
/// process that seals into the log redacts the same fields. One rule per line,
/// <c>RESOURCE[,RESOURCE...]=FIELD[,FIELD...]</c> (resources plural and lower case, top-level fields of
/// their objects); blank lines and lines starting with # are ignored.
/// </summary>
public static class RedactionRules
{
    public const string FileName = "audit-redaction.rules";

    /// <summary>Parses one rule; throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static RedactionRule Parse(string text)
    {
        var eq = text.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0 || eq == text.Length - 1)
        {
            throw new FormatException($"redaction rule '{text}' is not RESOURCE=FIELD (for example configmaps=data)");
        }

        static List<string> Names(string list, string what, string rule)
        {
            var names = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();
            if (names.Count == 0 || names.Any(n => n.Any(char.IsWhiteSpace)))
            {
                throw new FormatException($"redaction rule '{rule}': {what} must be names separated by commas");
            }

            return names;
        }

        var resources = Names(text[..eq], "resources", text);
        if (resources.Any(r => r != r.ToLowerInvariant()))
        {
            throw new FormatException($"redaction rule '{text}': resources are plural and lower case, as in the API (configmaps, not ConfigMap)");
        }

        return new RedactionRule(resources, Names(text[(eq + 1)..], "fields", text));
    }

    /// <summary>The rules kept in <paramref name="keyDirectory"/>; none when there is no rules file.</summary>
    public static IReadOnlyList<RedactionRule> Load(string keyDirectory)
    {
        var path = Path.Combine(keyDirectory, FileName);
        if (!File.Exists(path))
        {
            return [];
        }

        var rules = new List<RedactionRule>();
        var n = 0;
        foreach (var line in File.ReadLines(path))
        {
            n++;
            var t = line.Trim();
            if (t.Length == 0 || t.StartsWith('#'))
            {
                continue;
            }

            try
            {
                rules.Add(Parse(t));
            }
            catch (FormatException ex)
            {
                throw new FormatException($"{path}:{n}: {ex.Message}", ex);
            }
        }

        return rules;
    }

    public static void Save(string keyDirectory, IReadOnlyList<RedactionRule> rules)
    {
        var lines = new List<string> { "# Extra redaction before sealing: RESOURCE[,RESOURCE]=FIELD[,FIELD] (written by skjold audit init --redact)" };
        lines.AddRange(rules.Select(r => string.Join(',', r.Resources) + "=" + string.Join(',', r.Fields)));
        File.WriteAllLines(Path.Combine(keyDirectory, FileName), lines);
    }
}
