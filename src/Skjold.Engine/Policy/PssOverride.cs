using Skjold.Engine.Pss;

namespace Skjold.Engine.Policy;

/// <summary>A Pod Security level and version given on a command line or in a request, over the configured policy.</summary>
public static class PssOverride
{
    /// <summary>
    /// The policy judged at <paramref name="level"/> and <paramref name="version"/> where given (null keeps the
    /// configured one); false with the problem when either is not a level or version.
    /// </summary>
    public static bool TryApply(ScanPolicy policy, string? level, string? version, out ScanPolicy result, out string? error)
    {
        result = policy;
        PssLevel? l = null;
        if (level is not null)
        {
            if (!PssLevels.TryParse(level, out var parsed))
            {
                error = $"'{level}' is not a Pod Security level; use privileged, baseline or restricted";
                return false;
            }

            l = parsed;
        }

        PssVersion? v = null;
        if (version is not null)
        {
            if (!PssVersion.TryParse(version, out var parsed))
            {
                error = $"'{version}' is not a Pod Security version; use v1.0 to v1.{PssVersion.NewestKnownMinor} or latest";
                return false;
            }

            v = parsed;
        }

        error = null;
        result = policy.With(l, v);
        return true;
    }
}
