namespace Skjold.Engine.Pss;

public static class PssLevels
{
    public static string ToName(this PssLevel level) => level switch
    {
        PssLevel.Privileged => "privileged",
        PssLevel.Baseline => "baseline",
        PssLevel.Restricted => "restricted",
        _ => throw new ArgumentOutOfRangeException(nameof(level)),
    };

    public static bool TryParse(string? text, out PssLevel level)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "privileged":
                level = PssLevel.Privileged;
                return true;
            case "baseline":
                level = PssLevel.Baseline;
                return true;
            case "restricted":
                level = PssLevel.Restricted;
                return true;
            default:
                level = PssLevel.Restricted;
                return false;
        }
    }
}
