using System.Globalization;
using System.Net;
using System.Text;

namespace Skjold.Alerts.Formats;

/// <summary>
/// ArcSight Common Event Format: <c>CEF:0|Skjold|Skjold|VERSION|RULE|RULE|SEVERITY|EXTENSIONS</c>.
/// Header fields escape <c>\</c> and <c>|</c>; extension values escape <c>\</c> and <c>=</c> and write
/// newlines as <c>\n</c>. Severity maps syslog's 0 (emergency) .. 7 (debug) onto CEF's 10 .. 0.
/// </summary>
public static class CefFormatter
{
    private static readonly string Version = typeof(CefFormatter).Assembly.GetName().Version is { } v ? $"{v.Major}.{v.Minor}.{v.Build}" : "0";

    /// <summary>CEF severity (0-10, 10 most severe) of a syslog severity.</summary>
    public static int Severity(int syslogSeverity) => syslogSeverity switch
    {
        <= 0 => 10,
        1 => 9,
        2 => 8,
        3 => 7,
        4 => 5,
        5 => 3,
        6 => 1,
        _ => 0,
    };

    public static string Format(Alert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        var sb = new StringBuilder(256).Append("CEF:0|Skjold|Skjold|").Append(Version).Append('|');
        Header(sb, alert.Rule);
        sb.Append('|');
        Header(sb, alert.Rule);
        sb.Append('|').Append(Severity(alert.Severity).ToString(CultureInfo.InvariantCulture)).Append('|');
        sb.Append("rt=").Append(alert.Time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
        Ext(sb, "externalId", alert.Id);
        Ext(sb, "cat", alert.Source);
        Ext(sb, "cs1Label", "priority");
        Ext(sb, "cs1", alert.Priority.ToString());
        if (alert.Tags.Count > 0)
        {
            Ext(sb, "cs2Label", "tags");
            Ext(sb, "cs2", string.Join(',', alert.Tags));
        }

        if (alert.Leaves.Count > 0)
        {
            Ext(sb, "cs3Label", "trailLeaves");
            Ext(sb, "cs3", string.Join(',', alert.Leaves.Select(l => l.ToString(CultureInfo.InvariantCulture))));
        }

        if (alert.Fields.TryGetValue("namespace", out var ns))
        {
            Ext(sb, "cs4Label", "namespace");
            Ext(sb, "cs4", ns);
        }

        if (alert.Fields.TryGetValue("user", out var user))
        {
            Ext(sb, "suser", user);
        }

        if (alert.Fields.TryGetValue("sourceIP", out var ip) && IPAddress.TryParse(ip, out var parsed))
        {
            Ext(sb, parsed.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "c6a2" : "src", parsed.ToString());
        }

        if (alert.Fields.TryGetValue("verb", out var verb))
        {
            Ext(sb, "act", verb);
        }

        if (alert.Fields.TryGetValue("resource", out var resource))
        {
            Ext(sb, "cs5Label", "resource");
            Ext(sb, "cs5", alert.Fields.TryGetValue("name", out var name) ? $"{resource}/{name}" : resource);
        }

        Ext(sb, "msg", alert.Output);
        return sb.ToString();
    }

    private static void Header(StringBuilder sb, string value)
    {
        foreach (var c in value)
        {
            if (c is '\\' or '|')
            {
                sb.Append('\\');
            }

            sb.Append(char.IsControl(c) ? ' ' : c);
        }
    }

    private static void Ext(StringBuilder sb, string key, string value)
    {
        sb.Append(' ').Append(key).Append('=');
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\':
                    sb.Append(@"\\");
                    break;
                case '=':
                    sb.Append(@"\=");
                    break;
                case '\n':
                    sb.Append(@"\n");
                    break;
                case '\r':
                    sb.Append(@"\r");
                    break;
                default:
                    sb.Append(char.IsControl(c) ? ' ' : c);
                    break;
            }
        }
    }
}
