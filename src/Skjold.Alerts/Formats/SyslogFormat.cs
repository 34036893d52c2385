using System.Globalization;
using System.Text;

namespace Skjold.Alerts.Formats;

/// <summary>What a syslog output writes as the message: RFC 5424 with Skjold's structured data, or CEF.</summary>
public enum SyslogMessageFormat
{
    Rfc5424,
    Cef,
}

/// <summary>
/// RFC 5424 messages for alerts: <c>&lt;PRI&gt;1 TIMESTAMP HOST skjold - alert [skjold@PEN id=.. rule=..] BOM MSG</c>.
/// Header fields are reduced to printable US-ASCII and cut to the RFC's lengths; structured-data
/// values escape <c>"</c>, <c>\</c> and <c>]</c>; the message is the alert's output (or a CEF record)
/// and is cut, at a character boundary, so that the whole message fits <c>maxBytes</c>.
/// </summary>
public sealed class SyslogFormatter(SyslogMessageFormat format, int facility, string hostname, int enterpriseNumber = SyslogFormatter.DefaultEnterpriseNumber, int maxBytes = 8192)
{
    /// <summary>The private enterprise number in the SD-ID (RFC 5612's documentation number unless configured).</summary>
    public const int DefaultEnterpriseNumber = 32473;

    public const string AppName = "skjold";

    private static readonly byte[] Bom = [0xEF, 0xBB, 0xBF];
    private readonly string _host = HeaderField(hostname, 255);

    public SyslogMessageFormat MessageFormat => format;

    /// <summary>The whole syslog message, as UTF-8 bytes (no framing).</summary>
    public byte[] Format(Alert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        var pri = (facility * 8) + Math.Clamp(alert.Severity, 0, 7);
        var header = new StringBuilder(256)
            .Append('<').Append(pri.ToString(CultureInfo.InvariantCulture)).Append(">1 ")
            .Append(alert.Time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture)).Append(' ')
            .Append(_host).Append(' ').Append(AppName).Append(" - ")
            .Append(format == SyslogMessageFormat.Cef ? "cef" : "alert").Append(' ');
        if (format == SyslogMessageFormat.Cef)
        {
            header.Append('-').Append(' ');
            return Join(Encoding.UTF8.GetBytes(header.ToString()), [], Encoding.UTF8.GetBytes(CefFormatter.Format(alert)));
        }

        header.Append("[skjold@").Append(enterpriseNumber.ToString(CultureInfo.InvariantCulture));
        Param(header, "id", alert.Id);
        Param(header, "rule", alert.Rule);
        Param(header, "priority", alert.Priority.ToString());
        Param(header, "source", alert.Source);
        if (alert.Tags.Count > 0)
        {
            Param(header, "tags", string.Join(',', alert.Tags));
        }

        if (alert.Leaves.Count > 0)
        {
            Param(header, "leaves", string.Join(',', alert.Leaves.Select(l => l.ToString(CultureInfo.InvariantCulture))));
        }

        foreach (var (k, v) in alert.Fields.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            Param(header, SdName(k), v);
        }

        header.Append("] ");
        return Join(Encoding.UTF8.GetBytes(header.ToString()), Bom, Encoding.UTF8.GetBytes(OneLine(alert.Output)));
    }

    private byte[] Join(byte[] head, byte[] bom, byte[] msg)
    {
        var room = Math.Max(0, maxBytes - head.Length - bom.Length);
        var take = Math.Min(msg.Length, room);
        while (take > 0 && take < msg.Length && (msg[take] & 0xC0) == 0x80)
        {
            take--; // never cut inside a UTF-8 sequence
        }

        var result = new byte[head.Length + bom.Length + take];
        head.CopyTo(result, 0);
        bom.CopyTo(result, head.Length);
        msg.AsSpan(0, take).CopyTo(result.AsSpan(head.Length + bom.Length));
        return result;
    }

    private static void Param(StringBuilder sb, string name, string value)
    {
        sb.Append(' ').Append(name).Append("=\"");
        foreach (var c in OneLine(value))
        {
            if (c is '"' or '\\' or ']')
            {
                sb.Append('\\');
            }

            sb.Append(c);
        }

        sb.Append('"');
    }

    /// <summary>An SD-NAME: printable US-ASCII without '=', space, ']' and '"', at most 32 characters.</summary>
    internal static string SdName(string name)
    {
        var sb = new StringBuilder(Math.Min(name.Length, 32));
        foreach (var c in name)
        {
            if (sb.Length == 32)
            {
                break;
            }

            sb.Append(c is > ' ' and < (char)127 and not '=' and not ']' and not '"' ? c : '_');
        }

        return sb.Length == 0 ? "_" : sb.ToString();
    }

    /// <summary>A header field: printable US-ASCII only, at most <paramref name="max"/> characters, "-" when empty.</summary>
    internal static string HeaderField(string value, int max)
    {
        var sb = new StringBuilder(Math.Min(value.Length, max));
        foreach (var c in value)
        {
            if (sb.Length == max)
            {
                break;
            }

            sb.Append(c is > ' ' and < (char)127 ? c : '_');
        }

        return sb.Length == 0 ? "-" : sb.ToString();
    }

    /// <summary>Control characters (newlines above all) become spaces, so one alert is one line in every receiver.</summary>
    internal static string OneLine(string value)
    {
        if (!value.AsSpan().ContainsAnyInRange('\0', '\x1f') && !value.Contains('\x7f', StringComparison.Ordinal))
        {
            return value;
        }

        return string.Create(value.Length, value, static (span, v) =>
        {
            for (var i = 0; i < v.Length; i++)
            {
                span[i] = char.IsControl(v[i]) ? ' ' : v[i];
            }
        });
    }

    /// <summary>A facility by name (kern, user, ..., local0..local7) or number.</summary>
    public static bool TryParseFacility(string value, out int facility)
    {
        string[] names = ["kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp", "ntp", "audit", "alert", "clock",
            "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"];
        facility = Array.IndexOf(names, value.ToLowerInvariant());
        if (facility >= 0)
        {
            return true;
        }

        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out facility) && facility is >= 0 and <= 23;
    }
}
