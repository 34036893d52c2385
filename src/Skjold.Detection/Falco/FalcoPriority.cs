namespace Skjold.Detection.Falco;

/// <summary>Falco's priorities, most severe first (as Falco orders them).</summary>
public enum FalcoPriority
{
    Emergency,
    Alert,
    Critical,
    Error,
    Warning,
    Notice,
    Informational,
    Debug,
}
