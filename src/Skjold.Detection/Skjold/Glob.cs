namespace Skjold.Detection.Skjold;

/// <summary>Shell-style globs for names (<c>*</c> any run, <c>?</c> one character), matched without regular expressions (linear time).</summary>
internal static class Glob
{
    public static bool Match(string pattern, string text)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t]))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    public static bool Any(IReadOnlyList<string> patterns, string? text) => text is not null && patterns.Any(p => Match(p, text));
}
