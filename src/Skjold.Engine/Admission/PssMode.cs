using Skjold.Engine.Pss;

namespace Skjold.Engine.Admission;

/// <summary>A Pod Security level and version for one mode (enforce, audit or warn).</summary>
public readonly record struct PssMode(PssLevel Level, PssVersion Version)
{
    public override string ToString() => $"{Level.ToName()}:{Version}";
}
