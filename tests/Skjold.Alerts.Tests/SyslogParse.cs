using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Skjold.Alerts.Tests;

/// <summary>A strict RFC 5424 reader for the tests (the grammar of section 6), independent of the formatter.</summary>
internal sealed record SyslogMessage(int Pri, DateTimeOffset Time, string Host, string App, string ProcId, string MsgId,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Data, string Message, bool Bom)
{
    private static readonly Regex Header = new(@"^<(?<pri>[0-9]{1,3})>1 (?<ts>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})) (?<host>[!-~]{1,255}) (?<app>[!-~]{1,48}) (?<proc>[!-~]{1,128}) (?<msgid>[!-~]{1,32}) ", RegexOptions.CultureInvariant);

    public static SyslogMessage Parse(string line)
    {
        var m = Header.Match(line);
        Assert.True(m.Success, $"not an RFC 5424 header: {line[..Math.Min(line.Length, 120)]}");
        var pri = int.Parse(m.Groups["pri"].Value, CultureInfo.InvariantCulture);
        Assert.InRange(pri, 0, 191);
        var rest = line[m.Length..];
        var data = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        int i;
        if (rest.StartsWith('-'))
        {
            i = 1;
        }
        else
        {
            i = 0;
            while (i < rest.Length && rest[i] == '[')
            {
                i++;
                var idStart = i;
                while (rest[i] is not ' ' and not ']')
                {
                    Assert.True(rest[i] is > ' ' and < (char)127 and not '=' and not '"', "SD-ID character");
                    i++;
                }

                var id = rest[idStart..i];
                var pars = new Dictionary<string, string>(StringComparer.Ordinal);
                while (rest[i] == ' ')
                {
                    i++;
                    var nameStart = i;
                    while (rest[i] != '=')
                    {
                        Assert.True(rest[i] is > ' ' and < (char)127 and not ']' and not '"', $"SD-NAME character '{rest[i]}'");
                        i++;
                    }

                    var name = rest[nameStart..i];
                    Assert.InRange(name.Length, 1, 32);
                    i++;
                    Assert.Equal('"', rest[i]);
                    i++;
                    var value = new StringBuilder();
                    while (rest[i] != '"')
                    {
                        if (rest[i] == '\\' && rest[i + 1] is '"' or '\\' or ']')
                        {
                            i++;
                        }
                        else
                        {
                            Assert.NotEqual(']', rest[i]); // an unescaped ']' ends nothing inside a value, but must be escaped
                        }

                        value.Append(rest[i]);
                        i++;
                    }

                    i++;
                    pars[name] = value.ToString();
                }

                Assert.Equal(']', rest[i]);
                i++;
                data[id] = pars;
            }
        }

        var msg = i < rest.Length ? rest[(i + 1)..] : "";
        if (i < rest.Length)
        {
            Assert.Equal(' ', rest[i]);
        }

        var bom = msg.StartsWith('\uFEFF');
        return new SyslogMessage(pri, DateTimeOffset.Parse(m.Groups["ts"].Value, CultureInfo.InvariantCulture), m.Groups["host"].Value, m.Groups["app"].Value,
            m.Groups["proc"].Value, m.Groups["msgid"].Value, data, bom ? msg[1..] : msg, bom);
    }
}

/// <summary>A CEF reader for the tests: header fields split on unescaped pipes, extensions on unescaped '=' after a key.</summary>
internal sealed record CefRecord(IReadOnlyList<string> Header, IReadOnlyDictionary<string, string> Extensions)
{
    public static CefRecord Parse(string text)
    {
        Assert.StartsWith("CEF:0|", text, StringComparison.Ordinal);
        var header = new List<string>();
        var sb = new StringBuilder();
        var i = 0;
        while (header.Count < 7)
        {
            var c = text[i++];
            if (c == '\\')
            {
                sb.Append(text[i++]);
            }
            else if (c == '|')
            {
                header.Add(sb.ToString());
                sb.Clear();
            }
            else
            {
                sb.Append(c);
            }
        }

        var ext = text[i..];
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match m in Regex.Matches(ext, @"(?:^| )([A-Za-z0-9]+)=((?:\\.|[^\\=])*?)(?= [A-Za-z0-9]+=|$)"))
        {
            result[m.Groups[1].Value] = Regex.Replace(m.Groups[2].Value, @"\\(.)", x => x.Groups[1].Value switch { "n" => "\n", "r" => "\r", var o => o });
        }

        return new CefRecord(header, result);
    }
}
