using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Skjold.Detection.Falco;

/// <summary>A compiled condition: true when the event matches.</summary>
internal delegate bool CompiledCondition(AuditEventView audit);

/// <summary>
/// Falco's condition language for the k8s_audit source, compiled once into a delegate tree:
/// <c>and</c>, <c>or</c>, <c>not</c>, parentheses, macros, lists, and the comparisons
/// <c>= != &lt; &lt;= &gt; &gt;= in intersects contains icontains startswith endswith glob pmatch exists</c>.
/// Anything else (another source's fields, transformers, regex) is an error, never a silent false.
/// </summary>
internal sealed partial class ConditionCompiler
{
    private readonly IReadOnlyDictionary<string, string> _macros;
    private readonly IReadOnlyDictionary<string, IReadOnlyList<string>> _lists;
    private readonly HashSet<string> _expanding = new(StringComparer.Ordinal);
    private readonly FieldTable _fields;
    private readonly Dictionary<string, CompiledCondition> _compiledMacros = new(StringComparer.Ordinal);

    public ConditionCompiler(IReadOnlyDictionary<string, string> macros, IReadOnlyDictionary<string, IReadOnlyList<string>> lists)
        : this(macros, lists, new FieldTable())
    {
    }

    internal ConditionCompiler(IReadOnlyDictionary<string, string> macros, IReadOnlyDictionary<string, IReadOnlyList<string>> lists, FieldTable fields)
    {
        _macros = macros;
        _lists = lists;
        _fields = fields;
    }

    internal int Slot(string name, string? arg) => _fields.Slot(name, arg);

    /// <summary>Compiles a condition; throws <see cref="FormatException"/> saying what is wrong and where in the text.</summary>
    public CompiledCondition Compile(string condition)
    {
        var p = new Parser(Tokenize(condition), this, condition);
        var c = p.ParseOr();
        p.ExpectEnd();
        return c;
    }

    private CompiledCondition Macro(string name)
    {
        if (!_macros.TryGetValue(name, out var text))
        {
            throw new FormatException($"'{name}' is neither a field of the k8s_audit source nor a defined macro");
        }

        if (_compiledMacros.TryGetValue(name, out var done))
        {
            return done;
        }

        if (!_expanding.Add(name))
        {
            throw new FormatException($"macro '{name}' refers to itself");
        }

        try
        {
            // Compiled once, and evaluated once per event for all the rules that use it.
            var inner = Compile(text);
            var slot = _fields.MacroSlot(name);
            CompiledCondition memo = e => e.Macro(slot, inner);
            _compiledMacros[name] = memo;
            return memo;
        }
        catch (FormatException ex)
        {
            throw new FormatException($"in macro '{name}': {ex.Message}", ex);
        }
        finally
        {
            _expanding.Remove(name);
        }
    }

    private List<string> ExpandList(IEnumerable<string> items, int depth = 0)
    {
        if (depth > 32)
        {
            throw new FormatException("lists nested more than 32 deep");
        }

        var result = new List<string>();
        foreach (var item in items)
        {
            if (_lists.TryGetValue(item, out var inner))
            {
                result.AddRange(ExpandList(inner, depth + 1));
            }
            else
            {
                result.Add(item);
            }
        }

        return result;
    }

    private enum Kind
    {
        Word,
        Quoted,
        Open,
        Close,
        Comma,
        Op,
        End,
    }

    private readonly record struct Token(Kind Kind, string Text, int At);

    private static List<Token> Tokenize(string s)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < s.Length)
        {
            var c = s[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c is '(' or ')' or ',')
            {
                tokens.Add(new Token(c == '(' ? Kind.Open : c == ')' ? Kind.Close : Kind.Comma, c.ToString(), i));
                i++;
            }
            else if (c is '"' or '\'')
            {
                var sb = new StringBuilder();
                var start = i++;
                while (i < s.Length && s[i] != c)
                {
                    if (s[i] == '\\' && i + 1 < s.Length)
                    {
                        i++;
                    }

                    sb.Append(s[i++]);
                }

                if (i >= s.Length)
                {
                    throw new FormatException($"unterminated string at offset {start}");
                }

                i++;
                tokens.Add(new Token(Kind.Quoted, sb.ToString(), start));
            }
            else if (c is '=' or '!' or '<' or '>')
            {
                var start = i;
                var op = i + 1 < s.Length && s[i + 1] == '=' ? s.Substring(i, 2) : c.ToString();
                if (op == "!")
                {
                    throw new FormatException($"'!' at offset {i} is not an operator (write != or not)");
                }

                i += op.Length;
                tokens.Add(new Token(Kind.Op, op, start));
            }
            else
            {
                var start = i;
                var depth = 0;
                while (i < s.Length && (depth > 0 || !(char.IsWhiteSpace(s[i]) || s[i] is '(' or ')' or ',' or '=' or '!' or '<' or '>' or '"' or '\'')))
                {
                    // A field argument in brackets may hold any character: jevt.value[/a/b], ka.uri.param[x].
                    depth += s[i] == '[' ? 1 : s[i] == ']' ? -1 : 0;
                    i++;
                }

                tokens.Add(new Token(Kind.Word, s[start..i], start));
            }
        }

        tokens.Add(new Token(Kind.End, string.Empty, s.Length));
        return tokens;
    }

    private static readonly HashSet<string> WordOps = new(StringComparer.Ordinal)
    {
        "in", "intersects", "contains", "icontains", "startswith", "endswith", "glob", "pmatch", "exists",
    };

    private static readonly HashSet<string> Unsupported = new(StringComparer.Ordinal)
    {
        "bcontains", "bstartswith", "regex", "iglob",
    };

    private static (string Name, string? Arg) SplitField(string word)
    {
        var b = word.IndexOf('[', StringComparison.Ordinal);
        return b > 0 && word.EndsWith(']') ? (word[..b], word[(b + 1)..^1]) : (word, null);
    }

    private static CompiledCondition Membership(int slot, string op, List<string> set, bool isList)
    {
        var members = new HashSet<string>(set, StringComparer.Ordinal);
        return op switch
        {
            // A list field is "in" a set when every value is; "intersects" when any is.
            "in" when isList => e => e.Get(slot) is { Count: > 0 } v && v.TrueForAll(members.Contains),
            "in" or "intersects" => e => e.Get(slot).Exists(members.Contains),
            _ => e => e.Get(slot).Exists(v => set.Exists(prefix => PathPrefix(v, prefix))),
        };
    }

    private static bool PathPrefix(string value, string prefix) =>
        value == prefix || (value.StartsWith(prefix, StringComparison.Ordinal) && (prefix.EndsWith('/') || value[prefix.Length] == '/'));

    private static CompiledCondition Compare(int slot, string op, string value)
    {
        Func<string, bool> test = op switch
        {
            "=" => v => v == value,
            "!=" => v => v != value,
            "contains" => v => v.Contains(value, StringComparison.Ordinal),
            "icontains" => v => v.Contains(value, StringComparison.OrdinalIgnoreCase),
            "startswith" => v => v.StartsWith(value, StringComparison.Ordinal),
            "endswith" => v => v.EndsWith(value, StringComparison.Ordinal),
            "glob" => Glob(value),
            "<" or "<=" or ">" or ">=" => Numeric(op, value),
            _ => throw new FormatException($"'{op}' is not an operator"),
        };

        // A list field matches a scalar comparison when any of its values does; no value never matches.
        return e =>
        {
            foreach (var v in e.Get(slot))
            {
                if (test(v))
                {
                    return true;
                }
            }

            return false;
        };
    }

    private static Func<string, bool> Numeric(string op, string value)
    {
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n))
        {
            throw new FormatException($"'{op}' compares numbers; '{value}' is not one");
        }

        return v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && op switch
        {
            "<" => x < n,
            "<=" => x <= n,
            ">" => x > n,
            _ => x >= n,
        };
    }

    private static Func<string, bool> Glob(string pattern)
    {
        var regex = new Regex("^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal)
            .Replace("\\[", "[", StringComparison.Ordinal).Replace("\\]", "]", StringComparison.Ordinal) + "$", RegexOptions.CultureInvariant | RegexOptions.Singleline, TimeSpan.FromMilliseconds(50));
        return v => regex.IsMatch(v);
    }
}
