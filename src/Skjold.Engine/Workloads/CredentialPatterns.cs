using System.Buffers;
using System.Text.RegularExpressions;

namespace Skjold.Engine.Workloads;

/// <summary>
/// Heuristics for values that look like credentials, in env values and ConfigMaps. Bounded in
/// time by construction: the token formats run on the non-backtracking regex engine (linear in the
/// input, no timeout to hit, the same verdict on a loaded machine) over at most
/// <see cref="MaxScannedChars"/> characters, and names and placeholders are plain string tests.
/// Messages never include the value itself.
/// </summary>
internal static partial class CredentialPatterns
{
    /// <summary>Values longer than this are judged by their first <see cref="MaxScannedChars"/> characters.</summary>
    public const int MaxScannedChars = 256 * 1024;

    private static readonly string[] SensitiveWords =
    [
        "PASSWORD", "PASSWD", "PWD", "PASS", "SECRET", "TOKEN", "APIKEY", "PRIVATEKEY", "ACCESSKEY", "CREDENTIAL", "CREDENTIALS",
        "CONNECTIONSTRING", "CONNSTR",
    ];

    /// <summary>True when a variable or key with this name and literal value likely holds a credential.</summary>
    public static bool LooksLikeCredential(string name, string value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        var scanned = value.Length > MaxScannedChars ? value.AsSpan(0, MaxScannedChars) : value.AsSpan();
        if (IsPlaceholder(scanned.Trim()))
        {
            return false;
        }

        if (MayHoldKnownToken(scanned) && KnownTokenFormat().IsMatch(scanned))
        {
            return true;
        }

        if (!IsSensitiveName(name))
        {
            return false;
        }

        // References, file paths, booleans, numbers and obvious placeholders are not credentials.
        var v = scanned.Trim();
        return !(v.StartsWith("$(", StringComparison.Ordinal) || v.StartsWith("${", StringComparison.Ordinal) || v.StartsWith('/')
            || v.Equals("true", StringComparison.OrdinalIgnoreCase) || v.Equals("false", StringComparison.OrdinalIgnoreCase)
            || long.TryParse(v, out _) || v.Length < 4);
    }

    /// <summary>
    /// Whether a name says it holds a secret: one of its words (split at '_', '-', '.' and
    /// lower-to-upper case changes) is a secret word, or its last word is KEY (STRIPE_KEY, API_KEY).
    /// Case-insensitive.
    /// </summary>
    public static bool IsSensitiveName(string name)
    {
        var words = Words(name);
        for (var i = 0; i < words.Count; i++)
        {
            var w = words[i];
            if (Array.IndexOf(SensitiveWords, w) >= 0)
            {
                return true;
            }

            // STRIPE_KEY, API_KEY, AZURE_STORAGE_KEY, SECRET_KEYS: a name that ends in KEY (not AWS_ACCESS_KEY_ID).
            if (w is "KEY" or "KEYS" && i == words.Count - 1 && words.Count > 1)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Template expressions and the usual stand-ins are not values (Helm's {{ .Values.x }}, INSERT_..., &lt;...&gt;, changeme).</summary>
    public static bool IsPlaceholder(ReadOnlySpan<char> v)
    {
        if (v.Length == 0)
        {
            return true;
        }

        if ((v.StartsWith("{{") && v.EndsWith("}}")) || (v.StartsWith("<") && v.EndsWith(">")) || (v.StartsWith("%") && v.EndsWith("%")))
        {
            return true;
        }

        if (v.Contains("{{", StringComparison.Ordinal) && v.Contains("}}", StringComparison.Ordinal))
        {
            return true; // a template with text around it
        }

        foreach (var prefix in (string[])["INSERT_", "INSERT-", "REPLACE_", "REPLACE-", "YOUR_", "YOUR-", "CHANGE_ME", "ENTER_"])
        {
            if (v.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        var allSame = true;
        foreach (var c in v)
        {
            if (c != v[0])
            {
                allSame = false;
                break;
            }
        }

        if (allSame && v[0] is '*' or 'x' or 'X' or '.' or '-')
        {
            return true;
        }

        foreach (var word in (string[])["changeme", "change-me", "placeholder", "redacted", "none", "null", "example", "todo", "tbd", "secret", "password"])
        {
            if (v.Equals(word, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static List<string> Words(string name)
    {
        var words = new List<string>();
        var start = 0;
        for (var i = 0; i <= name.Length; i++)
        {
            var boundary = i == name.Length || name[i] is '_' or '-' or '.' or ' '
                || (i > start && char.IsLower(name[i - 1]) && char.IsUpper(name[i]));
            if (!boundary)
            {
                continue;
            }

            if (i > start)
            {
                words.Add(name[start..i].ToUpperInvariant());
            }

            start = i < name.Length && name[i] is '_' or '-' or '.' or ' ' ? i + 1 : i;
        }

        return words;
    }

    /// <summary>
    /// Whether the value contains a literal that every alternative of <see cref="KnownTokenFormat"/>
    /// starts with. A vectorised search; the regex (whose non-backtracking automaton costs
    /// milliseconds to build) runs only on values that pass, which most values never do.
    /// </summary>
    internal static bool MayHoldKnownToken(ReadOnlySpan<char> value) => value.IndexOfAny(TokenPrefixes) >= 0;

    // One literal per alternative of KnownTokenFormat, in its order (a test pins the correspondence).
    private static readonly SearchValues<string> TokenPrefixes = SearchValues.Create(
        ["AKIA", "ASIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-",
            "sk_live_", "rk_live_", "-----BEGIN ", "eyJ", "AIza", "AccountKey=", "://"],
        StringComparison.Ordinal);

    // Non-backtracking: linear time whatever the input, so no timeout and no exception.
    [GeneratedRegex(@"AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{40}|glpat-[A-Za-z0-9\-_]{20}|xox[abposr]-[A-Za-z0-9-]{10}|[sr]k_live_[A-Za-z0-9]{20}|-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----|eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10}|AIza[0-9A-Za-z\-_]{35}|AccountKey=[A-Za-z0-9+/]{40}|://[^/\s:@]{1,256}:[^/\s@]{1,256}@", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    internal static partial Regex KnownTokenFormat();
}
