using System.Globalization;

namespace Skjold.Engine.Pss;

/// <summary>
/// A Pod Security Standards policy version: <c>v1.N</c> or <c>latest</c>. Versions newer than the
/// newest one Skjold knows are evaluated as the newest, as Pod Security Admission does.
/// </summary>
public readonly record struct PssVersion
{
    /// <summary>The newest minor version whose checks Skjold implements.</summary>
    public const int NewestKnownMinor = 37;

    private PssVersion(int minor, bool latest)
    {
        Minor = minor;
        IsLatest = latest;
    }

    public static PssVersion Latest { get; } = new(NewestKnownMinor, true);

    /// <summary>The minor version checks are evaluated at (the newest known one for latest).</summary>
    public int Minor { get; }

    public bool IsLatest { get; }

    public static PssVersion Of(int minor) => new(minor, false);

    public static bool TryParse(string? text, out PssVersion version)
    {
        version = Latest;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var t = text.Trim();
        if (t.Equals("latest", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (t.StartsWith('v'))
        {
            t = t[1..];
        }

        if (!t.StartsWith("1.", StringComparison.Ordinal)
            || !int.TryParse(t.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var minor))
        {
            return false;
        }

        version = new PssVersion(minor, false);
        return true;
    }

    public override string ToString() => IsLatest ? "latest" : $"v1.{Minor.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The minor version checks are evaluated at.</summary>
    public int EffectiveMinor => Math.Min(Minor, NewestKnownMinor);
}
