
namespace Skjold.Detection.Falco;

/// <summary>The parser of Falco's condition grammar: and, or, not, parentheses, comparisons, in/intersects/pmatch lists and macros, compiled as it parses.</summary>
internal sealed partial class ConditionCompiler
{
    private sealed class Parser(List<Token> tokens, ConditionCompiler owner, string text)
    {
        private int _i;

        private Token Peek => tokens[_i];

        private Token Next() => tokens[_i++];

        public void ExpectEnd()
        {
            if (Peek.Kind != Kind.End)
            {
                throw new FormatException($"unexpected '{Peek.Text}' at offset {Peek.At} in \"{text}\"");
            }
        }

        private bool IsWord(string w) => Peek.Kind == Kind.Word && Peek.Text == w;

        public CompiledCondition ParseOr()
        {
            var left = ParseAnd();
            while (IsWord("or"))
            {
                Next();
                var l = left;
                var r = ParseAnd();
                left = e => l(e) || r(e);
            }

            return left;
        }

        private CompiledCondition ParseAnd()
        {
            var left = ParseNot();
            while (IsWord("and"))
            {
                Next();
                var l = left;
                var r = ParseNot();
                left = e => l(e) && r(e);
            }

            return left;
        }

        private CompiledCondition ParseNot()
        {
            if (IsWord("not"))
            {
                Next();
                var inner = ParseNot();
                return e => !inner(e);
            }

            return ParsePrimary();
        }

        private CompiledCondition ParsePrimary()
        {
            var t = Next();
            if (t.Kind == Kind.Open)
            {
                var inner = ParseOr();
                if (Next().Kind != Kind.Close)
                {
                    throw new FormatException($"missing ')' for the '(' at offset {t.At}");
                }

                return inner;
            }

            if (t.Kind != Kind.Word)
            {
                throw new FormatException($"unexpected '{t.Text}' at offset {t.At}");
            }

            var (name, arg) = SplitField(t.Text);
            if (!K8sAuditFields.TryDescribe(name, out var argKind, out var isList))
            {
                if (name.Contains('.', StringComparison.Ordinal) || name.Contains('(', StringComparison.Ordinal))
                {
                    throw new FormatException($"'{t.Text}' is not a field of the k8s_audit source (the ka.* and jevt.* fields of the k8saudit plugin)");
                }

                return owner.Macro(t.Text);
            }

            if (argKind == K8sAuditFields.Argument.KeyRequired && arg is null)
            {
                throw new FormatException($"field '{name}' needs an argument in brackets");
            }

            if (argKind == K8sAuditFields.Argument.None && arg is not null)
            {
                throw new FormatException($"field '{name}' takes no argument");
            }

            var op = Next();
            if (op.Kind == Kind.Word && Unsupported.Contains(op.Text))
            {
                throw new FormatException($"operator '{op.Text}' is not supported by Skjold's k8s_audit engine");
            }

            var slot = owner.Slot(name, arg);
            if (op.Kind == Kind.Word && op.Text == "exists")
            {
                return e => e.Get(slot).Count > 0;
            }

            if (op.Kind == Kind.Word && op.Text is "in" or "intersects" or "pmatch")
            {
                var set = owner.ExpandList(ParseList());
                return Membership(slot, op.Text, set, isList);
            }

            if (op.Kind == Kind.Op || (op.Kind == Kind.Word && WordOps.Contains(op.Text)))
            {
                var v = Next();
                if (v.Kind is not (Kind.Word or Kind.Quoted))
                {
                    throw new FormatException($"operator '{op.Text}' at offset {op.At} needs a value");
                }

                return Compare(slot, op.Text, v.Text);
            }

            throw new FormatException($"'{op.Text}' at offset {op.At} is not an operator after field '{t.Text}'");
        }

        private List<string> ParseList()
        {
            if (Next().Kind != Kind.Open)
            {
                throw new FormatException($"expected a list in parentheses at offset {tokens[_i - 1].At}");
            }

            var items = new List<string>();
            while (Peek.Kind != Kind.Close)
            {
                var v = Next();
                if (v.Kind is not (Kind.Word or Kind.Quoted))
                {
                    throw new FormatException($"unexpected '{v.Text}' in a list at offset {v.At}");
                }

                items.Add(v.Text);
                if (Peek.Kind == Kind.Comma)
                {
                    Next();
                }
                else if (Peek.Kind != Kind.Close)
                {
                    throw new FormatException($"expected ',' or ')' at offset {Peek.At}");
                }
            }

            Next();
            return items;
        }
    }
}
