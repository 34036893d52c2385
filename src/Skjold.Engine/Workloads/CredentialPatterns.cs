using System.Text.RegularExpressions;

namespace Skjold.Engine.Workloads;

/// <summary>
/// Heuristics for values that look like credentials. Used for env values and (later) ConfigMaps.
/// Messages never include the value itself.
/// </summary>
internal static partial class CredentialPatterns
{
    /// <summary>True when an environment variable with this name and literal value likely holds a credential.</summary>
    public static bool LooksLikeCredential(string name, string value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        if (KnownTokenFormat().IsMatch(value))
        {
            return true;
        }

        if (!SensitiveName().IsMatch(name))
        {
            return false;
        }

        // References, file paths, booleans, numbers and obvious placeholders are not credentials.
        var v = value.Trim();
        if (v.StartsWith("$(", StringComparison.Ordinal) || v.StartsWith("${", StringComparison.Ordinal) || v.StartsWith('/')
            || v.Equals("true", StringComparison.OrdinalIgnoreCase) || v.Equals("false", StringComparison.OrdinalIgnoreCase)
            || long.TryParse(v, out _) || v.Length < 4)
        {
            return false;
        }

        return !Placeholder().IsMatch(v);
    }

    [GeneratedRegex(@"(^|[_\-.])(PASSWORD|PASSWD|PWD|PASS|SECRET|TOKEN|APIKEY|API_KEY|PRIVATE_KEY|PRIVATEKEY|ACCESS_KEY|ACCESSKEY|SECRET_KEY|CREDENTIALS?|CLIENT_SECRET|AUTH_KEY|CONNECTION_STRING|CONN_STR)([_\-.]|$)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex SensitiveName();

    [GeneratedRegex(@"AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,}|glpat-[A-Za-z0-9\-_]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}|sk_live_[A-Za-z0-9]{20,}|-----BEGIN [A-Z ]*PRIVATE KEY-----|eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}|AIza[0-9A-Za-z\-_]{35}|://[^/\s:@]+:[^/\s@]+@", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex KnownTokenFormat();

    [GeneratedRegex(@"^(<.*>|\*+|x+|changeme|change-me|placeholder|redacted|none|null|example|todo)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex Placeholder();
}
