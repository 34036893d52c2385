using System.Text;

namespace Skjold.Engine.Network;

/// <summary>
/// Calico's label selector expressions: <c>all()</c>, <c>global()</c>, <c>has(k)</c>, <c>k == 'v'</c>,
/// <c>k != 'v'</c>, <c>k in {'a', 'b'}</c>, <c>k not in {...}</c>, <c>k contains 's'</c>,
/// <c>k starts with 's'</c>, <c>k ends with 's'</c>, <c>!</c>, <c>&amp;&amp;</c>, <c>||</c> and
/// parentheses. A label that is absent makes <c>!=</c> and <c>not in</c> true and the rest false.
/// Bounded: 8 KiB of text and 64 levels of nesting.
/// </summary>
internal abstract class CalicoSelector
{
    private const int MaxLength = 8192;
    private const int MaxDepth = 64;

    public static CalicoSelector All { get; } = new AllSelector();

    /// <summary>True for all(); used to say that a policy selects every endpoint in its scope.</summary>
    public virtual bool IsAll => false;

    /// <param name="labels">The endpoint's labels (or a namespace's, for namespace selectors).</param>
    /// <param name="global">The labels are those of a non-namespaced object (a GlobalNetworkSet or host endpoint): global() is true.</param>
    public abstract bool Matches(IReadOnlyDictionary<string, string> labels, bool global = false);

    /// <summary>Parses an expression; an empty one is all(). Returns null and an error for text Calico would reject.</summary>
    public static CalicoSelector? Parse(string? text, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return All;
        }

        if (text.Length > MaxLength)
        {
            error = $"selector is longer than {MaxLength} characters";
            return null;
        }

        var parser = new Parser(text);
        try
        {
            var result = parser.Or(0);
            parser.SkipSpace();
            if (!parser.AtEnd)
            {
                error = $"unexpected '{parser.Rest}' in selector";
                return null;
            }

            return result;
        }
        catch (FormatException ex)
        {
            error = ex.Message;
            return null;
        }
    }

    private sealed class AllSelector : CalicoSelector
    {
        public override bool IsAll => true;

        public override bool Matches(IReadOnlyDictionary<string, string> labels, bool global = false) => true;
    }

    private sealed class GlobalSelector : CalicoSelector
    {
        public override bool Matches(IReadOnlyDictionary<string, string> labels, bool global = false) => global;
    }

    private sealed class Not(CalicoSelector inner) : CalicoSelector
    {
        public override bool Matches(IReadOnlyDictionary<string, string> labels, bool global = false) => !inner.Matches(labels, global);
    }

    private sealed class And(CalicoSelector left, CalicoSelector right) : CalicoSelector
    {
        public override bool Matches(IReadOnlyDictionary<string, string> labels, bool global = false) => left.Matches(labels, global) && right.Matches(labels, global);
    }

    private sealed class Or(CalicoSelector left, CalicoSelector right) : CalicoSelector
    {
        public override bool Matches(IReadOnlyDictionary<string, string> labels, bool global = false) => left.Matches(labels, global) || right.Matches(labels, global);
    }

    private sealed class Term(string key, string op, string[] values) : CalicoSelector
    {
        public override bool Matches(IReadOnlyDictionary<string, string> labels, bool global = false)
        {
            var has = labels.TryGetValue(key, out var v);
            return op switch
            {
                "has" => has,
                "==" => has && v == values[0],
                "!=" => !has || v != values[0],
                "in" => has && values.Contains(v, StringComparer.Ordinal),
                "not in" => !has || !values.Contains(v, StringComparer.Ordinal),
                "contains" => has && v!.Contains(values[0], StringComparison.Ordinal),
                "starts with" => has && v!.StartsWith(values[0], StringComparison.Ordinal),
                "ends with" => has && v!.EndsWith(values[0], StringComparison.Ordinal),
                _ => false,
            };
        }
    }

    private sealed class Parser(string text)
    {
        private int _pos;

        public bool AtEnd => _pos >= text.Length;

        public string Rest => text[_pos..Math.Min(text.Length, _pos + 20)];

        public void SkipSpace()
        {
            while (_pos < text.Length && char.IsWhiteSpace(text[_pos]))
            {
                _pos++;
            }
        }

        public CalicoSelector Or(int depth)
        {
            var left = And(depth);
            while (Accept("||"))
            {
                left = new Or(left, And(depth));
            }

            return left;
        }

        private CalicoSelector And(int depth)
        {
            var left = Unary(depth);
            while (Accept("&&"))
            {
                left = new And(left, Unary(depth));
            }

            return left;
        }

        private CalicoSelector Unary(int depth)
        {
            if (depth > MaxDepth)
            {
                throw new FormatException($"selector nests deeper than {MaxDepth} levels");
            }

            SkipSpace();
            if (Peek('!') && !Peek("!="))
            {
                _pos++;
                return new Not(Unary(depth + 1));
            }

            if (Accept("("))
            {
                var inner = Or(depth + 1);
                Expect(")");
                return inner;
            }

            if (AcceptFunction("all"))
            {
                Expect(")");
                return All;
            }

            if (AcceptFunction("global"))
            {
                Expect(")");
                return new GlobalSelector();
            }

            if (AcceptFunction("has"))
            {
                var k = Key();
                Expect(")");
                return new Term(k, "has", []);
            }

            var key = Key();
            SkipSpace();
            if (Accept("=="))
            {
                return new Term(key, "==", [Value()]);
            }

            if (Accept("!="))
            {
                return new Term(key, "!=", [Value()]);
            }

            if (AcceptWord("in"))
            {
                return new Term(key, "in", Set());
            }

            if (AcceptWord("not"))
            {
                if (!AcceptWord("in"))
                {
                    throw new FormatException($"expected 'in' after 'not' at position {_pos}");
                }

                return new Term(key, "not in", Set());
            }

            if (AcceptWord("contains"))
            {
                return new Term(key, "contains", [Value()]);
            }

            if (AcceptWord("starts"))
            {
                if (!AcceptWord("with"))
                {
                    throw new FormatException($"expected 'with' after 'starts' at position {_pos}");
                }

                return new Term(key, "starts with", [Value()]);
            }

            if (AcceptWord("ends"))
            {
                if (!AcceptWord("with"))
                {
                    throw new FormatException($"expected 'with' after 'ends' at position {_pos}");
                }

                return new Term(key, "ends with", [Value()]);
            }

            throw new FormatException($"expected an operator after label '{key}' at position {_pos}");
        }

        private string Key()
        {
            SkipSpace();
            var start = _pos;
            while (_pos < text.Length && (char.IsAsciiLetterOrDigit(text[_pos]) || text[_pos] is '_' or '.' or '/' or '-'))
            {
                _pos++;
            }

            if (_pos == start)
            {
                throw new FormatException($"expected a label name at position {start}");
            }

            return text[start.._pos];
        }

        private string Value()
        {
            SkipSpace();
            if (_pos >= text.Length || text[_pos] is not ('\'' or '"'))
            {
                throw new FormatException($"expected a quoted value at position {_pos}");
            }

            var quote = text[_pos++];
            var sb = new StringBuilder();
            while (_pos < text.Length && text[_pos] != quote)
            {
                sb.Append(text[_pos++]);
            }

            if (_pos >= text.Length)
            {
                throw new FormatException("unterminated quoted value in selector");
            }

            _pos++;
            return sb.ToString();
        }

        private string[] Set()
        {
            Expect("{");
            var values = new List<string>();
            SkipSpace();
            if (Accept("}"))
            {
                return [];
            }

            do
            {
                values.Add(Value());
            }
            while (Accept(","));
            Expect("}");
            return [.. values];
        }

        private bool Peek(char c) => _pos < text.Length && text[_pos] == c;

        private bool Peek(string s) => string.CompareOrdinal(text, _pos, s, 0, s.Length) == 0;

        private bool Accept(string s)
        {
            SkipSpace();
            if (Peek(s))
            {
                _pos += s.Length;
                return true;
            }

            return false;
        }

        private bool AcceptWord(string word)
        {
            SkipSpace();
            if (!Peek(word))
            {
                return false;
            }

            var end = _pos + word.Length;
            if (end < text.Length && (char.IsAsciiLetterOrDigit(text[end]) || text[end] is '_' or '.' or '/' or '-'))
            {
                return false; // a label name that starts with the word
            }

            _pos = end;
            return true;
        }

        /// <summary>A function name followed by '(' (consumed); otherwise nothing is consumed, so a label may have the same name.</summary>
        private bool AcceptFunction(string name)
        {
            var start = _pos;
            if (AcceptWord(name) && Accept("("))
            {
                return true;
            }

            _pos = start;
            return false;
        }

        private void Expect(string s)
        {
            if (!Accept(s))
            {
                throw new FormatException($"expected '{s}' at position {_pos}");
            }
        }
    }
}
