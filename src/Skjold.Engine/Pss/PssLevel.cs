namespace Skjold.Engine.Pss;

/// <summary>The Pod Security Standards levels, least to most restrictive.</summary>
public enum PssLevel
{
    Privileged = 0,
    Baseline = 1,
    Restricted = 2,
}
