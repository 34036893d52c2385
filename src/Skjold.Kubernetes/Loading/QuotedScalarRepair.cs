using System.Text;

namespace Skjold.Kubernetes.Loading;

/// <summary>
/// Quoted scalars continued on a line indented no deeper than their key, which the YAML 1.2 spec
/// forbids and YamlDotNet refuses but go-yaml and libyaml (so kubectl and Helm) accept; the
/// Gatekeeper library's templates have this shape. Leading white space of a quoted scalar's
/// continuation lines is folded away, so indenting those lines further changes no value and no line
/// number. Used only to retry a document YamlDotNet refused for exactly this reason.
/// </summary>
internal static class QuotedScalarRepair
{
    public static bool IsIndentationError(string message) =>
        message.Contains("multi-line double-quoted scalar", StringComparison.Ordinal)
        || message.Contains("multi-line single-quoted scalar", StringComparison.Ordinal)
        || message.Contains("quoted scalar, found wrong indentation", StringComparison.Ordinal);

    /// <summary>The text with every under-indented continuation line of a quoted scalar indented one space past its key; null when nothing changed.</summary>
    public static string? Repair(string text)
    {
        var output = new StringBuilder(text.Length + 64);
        var changed = false;
        char quote = '\0';
        var scalarIndent = 0;
        var lineIndent = 0;
        var atLineStart = true;
        var lastNonSpace = '\0';
        var blockIndent = -1; // inside a block scalar (| or >) whose key was indented this much
        var i = 0;
        while (i < text.Length)
        {
            if (atLineStart)
            {
                var j = i;
                while (j < text.Length && text[j] == ' ')
                {
                    j++;
                }

                var indent = j - i;
                var blank = j >= text.Length || text[j] is '\n' or '\r';
                if (blockIndent >= 0 && (blank || indent > blockIndent))
                {
                    // Block scalar content: copy the line as it is.
                    var end = text.IndexOf('\n', i);
                    end = end < 0 ? text.Length : end + 1;
                    output.Append(text, i, end - i);
                    i = end;
                    continue;
                }

                blockIndent = -1;
                if (quote != '\0' && !blank && indent <= scalarIndent)
                {
                    output.Append(' ', scalarIndent + 1 - indent);
                    changed = true;
                }

                if (quote == '\0')
                {
                    lineIndent = indent;
                }

                output.Append(text, i, j - i);
                i = j;
                atLineStart = false;
                lastNonSpace = '\0';
                continue;
            }

            var c = text[i];
            output.Append(c);
            i++;
            if (c == '\n')
            {
                atLineStart = true;
                continue;
            }

            if (quote == '"')
            {
                if (c == '\\' && i < text.Length && text[i] != '\n')
                {
                    output.Append(text[i]);
                    i++;
                }
                else if (c == '"')
                {
                    quote = '\0';
                    lastNonSpace = '"';
                }

                continue;
            }

            if (quote == '\'')
            {
                if (c == '\'')
                {
                    if (i < text.Length && text[i] == '\'')
                    {
                        output.Append('\'');
                        i++;
                    }
                    else
                    {
                        quote = '\0';
                        lastNonSpace = '\'';
                    }
                }

                continue;
            }

            if (c == '#' && (lastNonSpace == '\0' || (i >= 2 && text[i - 2] is ' ' or '\t')))
            {
                // A comment runs to the end of the line.
                var end = text.IndexOf('\n', i);
                end = end < 0 ? text.Length : end;
                output.Append(text, i, end - i);
                i = end;
                continue;
            }

            if (c is '"' or '\'' && lastNonSpace is '\0' or ':' or '-' or '[' or '{' or ',' or '?')
            {
                quote = c;
                scalarIndent = lineIndent;
                continue;
            }

            if (c is '|' or '>' && lastNonSpace is ':' or '-' && RestIsIndicator(text, i))
            {
                blockIndent = lineIndent;
            }

            if (c is not (' ' or '\t' or '\r'))
            {
                lastNonSpace = c;
            }
        }

        return changed ? output.ToString() : null;
    }

    /// <summary>Whether the rest of the line after a | or > is a block scalar header (chomping, indentation digit, comment).</summary>
    private static bool RestIsIndicator(string text, int i)
    {
        for (; i < text.Length && text[i] != '\n'; i++)
        {
            if (text[i] == '#')
            {
                return true;
            }

            if (text[i] is not ('-' or '+' or ' ' or '\t' or '\r') && !char.IsAsciiDigit(text[i]))
            {
                return false;
            }
        }

        return true;
    }
}
