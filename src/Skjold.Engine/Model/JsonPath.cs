using System.Globalization;
using System.Text;

namespace Skjold.Engine.Model;

/// <summary>
/// Builds and splits the dotted JSON paths used in findings: <c>spec.containers[0].image</c>,
/// with keys that are not plain identifiers quoted as <c>metadata.annotations['a.b/c']</c>.
/// </summary>
public static class JsonPath
{
    public static string Child(string parent, string name)
    {
        if (IsPlain(name))
        {
            return parent.Length == 0 ? name : string.Concat(parent, ".", name);
        }

        return string.Concat(parent, "['", name.Replace("'", "\\'", StringComparison.Ordinal), "']");
    }

    public static string Child(string parent, string name1, string name2) => Child(Child(parent, name1), name2);

    public static string Index(string parent, int index) =>
        string.Concat(parent, "[", index.ToString(CultureInfo.InvariantCulture), "]");

    /// <summary>Splits a path into segments: a string for a property, a boxed int for an array index.</summary>
    public static IReadOnlyList<object> Split(string path)
    {
        var segments = new List<object>();
        var i = 0;
        while (i < path.Length)
        {
            var c = path[i];
            if (c == '.')
            {
                i++;
                continue;
            }

            if (c == '[')
            {
                if (i + 1 < path.Length && path[i + 1] == '\'')
                {
                    var sb = new StringBuilder();
                    var j = i + 2;
                    while (j < path.Length && !(path[j] == '\'' && (j + 1 >= path.Length || path[j + 1] == ']')))
                    {
                        if (path[j] == '\\' && j + 1 < path.Length)
                        {
                            j++;
                        }

                        sb.Append(path[j]);
                        j++;
                    }

                    segments.Add(sb.ToString());
                    i = j + 2;
                }
                else
                {
                    var close = path.IndexOf(']', i);
                    if (close < 0)
                    {
                        break;
                    }

                    if (int.TryParse(path.AsSpan(i + 1, close - i - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                    {
                        segments.Add(index);
                    }

                    i = close + 1;
                }

                continue;
            }

            var end = i;
            while (end < path.Length && path[end] != '.' && path[end] != '[')
            {
                end++;
            }

            segments.Add(path[i..end]);
            i = end;
        }

        return segments;
    }

    private static bool IsPlain(string name)
    {
        if (name.Length == 0)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_' || c == '-' || c == '$'))
            {
                return false;
            }
        }

        return true;
    }
}
