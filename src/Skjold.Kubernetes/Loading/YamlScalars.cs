using System.Globalization;
using System.Text.Json;

namespace Skjold.Kubernetes.Loading;

/// <summary>
/// Resolves plain YAML scalars to JSON values the way Kubernetes' YAML reader does (YAML 1.1
/// booleans such as yes/no/on/off, octal with a leading zero, hexadecimal), and writes them.
/// </summary>
internal static class YamlScalars
{
    public static void WritePlain(Utf8JsonWriter writer, string value)
    {
        if (value.Length == 0)
        {
            writer.WriteNullValue();
            return;
        }

        var c = value[0];
        if (!(char.IsAsciiDigit(c) || c is '-' or '+' or '.' or '~' or 't' or 'T' or 'f' or 'F' or 'y' or 'Y' or 'n' or 'N' or 'o' or 'O'))
        {
            writer.WriteStringValue(value);
            return;
        }

        switch (value)
        {
            case "~" or "null" or "Null" or "NULL":
                writer.WriteNullValue();
                return;
            case "true" or "True" or "TRUE" or "yes" or "Yes" or "YES" or "y" or "Y" or "on" or "On" or "ON":
                writer.WriteBooleanValue(true);
                return;
            case "false" or "False" or "FALSE" or "no" or "No" or "NO" or "n" or "N" or "off" or "Off" or "OFF":
                writer.WriteBooleanValue(false);
                return;
            default:
                break;
        }

        if (TryInteger(value, out var integer))
        {
            writer.WriteNumberValue(integer);
            return;
        }

        if (IsFloat(value) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
        {
            writer.WriteNumberValue(d);
            return;
        }

        writer.WriteStringValue(value);
    }

    /// <summary>Writes a scalar carrying an explicit core-schema tag.</summary>
    public static void WriteTagged(Utf8JsonWriter writer, string tag, string value)
    {
        switch (tag)
        {
            case "tag:yaml.org,2002:null":
                writer.WriteNullValue();
                break;
            case "tag:yaml.org,2002:bool" or "tag:yaml.org,2002:int" or "tag:yaml.org,2002:float":
                WritePlain(writer, value);
                break;
            default:
                writer.WriteStringValue(value);
                break;
        }
    }

    private static bool TryInteger(string s, out long value)
    {
        value = 0;
        var span = s.AsSpan();
        var negative = false;
        if (span.Length > 0 && (span[0] == '-' || span[0] == '+'))
        {
            negative = span[0] == '-';
            span = span[1..];
        }

        if (span.Length == 0)
        {
            return false;
        }

        bool ok;
        if (span.Length > 2 && span[0] == '0' && (span[1] == 'x' || span[1] == 'X'))
        {
            ok = long.TryParse(span[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        }
        else if (span.Length > 2 && span[0] == '0' && span[1] == 'o')
        {
            ok = TryOctal(span[2..], out value);
        }
        else if (span.Length > 1 && span[0] == '0' && IsAllDigits(span))
        {
            ok = TryOctal(span[1..], out value);
        }
        else
        {
            ok = IsAllDigits(span) && long.TryParse(span, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        }

        if (ok && negative)
        {
            value = -value;
        }

        return ok;
    }

    private static bool TryOctal(ReadOnlySpan<char> digits, out long value)
    {
        value = 0;
        if (digits.Length == 0 || digits.Length > 21)
        {
            return false;
        }

        foreach (var d in digits)
        {
            if (d is < '0' or > '7')
            {
                return false;
            }

            value = (value * 8) + (d - '0');
        }

        return true;
    }

    private static bool IsAllDigits(ReadOnlySpan<char> span)
    {
        foreach (var ch in span)
        {
            if (!char.IsAsciiDigit(ch))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsFloat(string s)
    {
        // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
        var i = 0;
        if (i < s.Length && (s[i] == '-' || s[i] == '+'))
        {
            i++;
        }

        var digits = 0;
        while (i < s.Length && char.IsAsciiDigit(s[i]))
        {
            i++;
            digits++;
        }

        if (i < s.Length && s[i] == '.')
        {
            i++;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
                digits++;
            }
        }

        if (digits == 0)
        {
            return false;
        }

        if (i < s.Length && (s[i] == 'e' || s[i] == 'E'))
        {
            i++;
            if (i < s.Length && (s[i] == '-' || s[i] == '+'))
            {
                i++;
            }

            var exp = 0;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
                exp++;
            }

            if (exp == 0)
            {
                return false;
            }
        }

        return i == s.Length;
    }
}
