using System.Globalization;

namespace Skjold.Cli;

/// <summary>Parses sizes such as 1048576, 512KiB, 32MiB, 1GiB (also KB/MB/GB, K/M/G, as binary units).</summary>
internal static class SizeParser
{
    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        var t = text.Trim();
        long multiplier = 1;
        string[][] units = [["KIB", "KB", "K"], ["MIB", "MB", "M"], ["GIB", "GB", "G"]];
        var upper = t.ToUpperInvariant();
        for (var i = 0; i < units.Length; i++)
        {
            foreach (var u in units[i])
            {
                if (upper.EndsWith(u, StringComparison.Ordinal))
                {
                    multiplier = 1L << (10 * (i + 1));
                    t = t[..^u.Length].Trim();
                    goto parse;
                }
            }
        }

    parse:
        if (!long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0 || n > long.MaxValue / multiplier)
        {
            return false;
        }

        bytes = n * multiplier;
        return true;
    }
}
