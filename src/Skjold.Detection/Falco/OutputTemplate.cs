using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Skjold.Detection.Falco;

/// <summary>A rule's output, compiled once: %field, %field[arg] and %(field) become the event's values.</summary>
internal static class OutputTemplate
{
    private static readonly Regex Placeholder = new(@"%\((?<f>[a-zA-Z][a-zA-Z0-9_.]*(?:\[[^\]]*\])?)\)|%(?<f>[a-zA-Z][a-zA-Z0-9_.]*(?:\[[^\]]*\])?)", RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));

    /// <summary>An output template: %field and %field[arg] are replaced by the values (&lt;NA&gt; when the event has none).</summary>
    public static Func<JsonElement, string> Compile(string template)
    {
        var parts = new List<(string Text, Func<JsonElement, List<string>>? Field)>();
        var last = 0;
        foreach (Match m in Placeholder.Matches(template))
        {
            var word = m.Groups["f"].Value;
            var b = word.IndexOf('[', StringComparison.Ordinal);
            var (name, arg) = b > 0 ? (word[..b], word[(b + 1)..^1]) : (word, (string?)null);
            if (!K8sAuditFields.TryDescribe(name, out _, out _))
            {
                continue; // %evt.time and other engine fields: left as written
            }

            parts.Add((template[last..m.Index], K8sAuditFields.Bind(name, arg)));
            last = m.Index + m.Length;
        }

        parts.Add((template[last..], null));
        return e =>
        {
            var sb = new StringBuilder();
            foreach (var (text, field) in parts)
            {
                sb.Append(text);
                if (field is not null)
                {
                    var values = field(e);
                    sb.Append(values.Count switch
                    {
                        0 => "<NA>",
                        1 => values[0],
                        _ => "(" + string.Join(",", values) + ")",
                    });
                }
            }

            return sb.ToString();
        };
    }
}
