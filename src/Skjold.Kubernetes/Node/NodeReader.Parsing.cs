using System.Text;
using System.Text.Json;
using Skjold.Engine.Model;

namespace Skjold.Kubernetes.Node;

/// <summary>Parsing what a node's files say: kubelet flags and arguments as systemd passes them, and configuration documents merged over their base.</summary>
public sealed partial class NodeReader
{
    private static IEnumerable<string> Strings(JsonElement array) =>
        array.ValueKind == JsonValueKind.Array ? array.EnumerateArray().Select(e => Json.AsString(e) ?? string.Empty) : [];

    /// <summary>--name=value, --name value and bare --name (true).</summary>
    internal static void ParseFlags(IEnumerable<string> args, Dictionary<string, string> flags)
    {
        var list = args.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            var a = list[i];
            if (!a.StartsWith('-'))
            {
                continue;
            }

            var name = a.TrimStart('-');
            var eq = name.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                flags[name[..eq]] = name[(eq + 1)..];
            }
            else if (i + 1 < list.Count && !list[i + 1].StartsWith('-'))
            {
                flags[name] = list[++i];
            }
            else
            {
                flags[name] = "true";
            }
        }
    }

    /// <summary>Splits a command line the way systemd and a shell would for these files: spaces, quotes, backslash line joins.</summary>
    internal static IEnumerable<string> SplitArgs(string text)
    {
        var current = new StringBuilder();
        char? quote = null;
        var any = false;
        foreach (var ch in text.Replace("\\\n", " ", StringComparison.Ordinal))
        {
            if (quote is { } q)
            {
                if (ch == q)
                {
                    quote = null;
                }
                else
                {
                    current.Append(ch);
                }
            }
            else if (ch is '"' or '\'')
            {
                quote = ch;
                any = true;
            }
            else if (char.IsWhiteSpace(ch) || ch == '\\')
            {
                if (current.Length > 0 || any)
                {
                    yield return current.ToString();
                    current.Clear();
                    any = false;
                }
            }
            else
            {
                current.Append(ch);
            }
        }

        if (current.Length > 0 || any)
        {
            yield return current.ToString();
        }
    }

    private static JsonElement Merge(JsonElement baseDoc, JsonElement overlay)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            WriteMerged(w, baseDoc, overlay);
        }

        using var doc = JsonDocument.Parse(stream.ToArray());
        return doc.RootElement.Clone();
    }

    private static void WriteMerged(Utf8JsonWriter w, JsonElement a, JsonElement b)
    {
        if (a.ValueKind != JsonValueKind.Object || b.ValueKind != JsonValueKind.Object)
        {
            b.WriteTo(w);
            return;
        }

        w.WriteStartObject();
        foreach (var p in a.EnumerateObject())
        {
            w.WritePropertyName(p.Name);
            if (b.TryGetProperty(p.Name, out var over))
            {
                WriteMerged(w, p.Value, over);
            }
            else
            {
                p.Value.WriteTo(w);
            }
        }

        foreach (var p in b.EnumerateObject())
        {
            if (!a.TryGetProperty(p.Name, out _))
            {
                p.WriteTo(w);
            }
        }

        w.WriteEndObject();
    }
}
