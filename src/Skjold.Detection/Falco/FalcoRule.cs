using System.Text.Json;

namespace Skjold.Detection.Falco;

/// <summary>One rule as loaded (after append and override), before and after compiling.</summary>
public sealed class FalcoRule
{
    public required string Name { get; init; }

    public string Description { get; set; } = string.Empty;

    public string Condition { get; set; } = string.Empty;

    public string Output { get; set; } = string.Empty;

    public FalcoPriority Priority { get; set; } = FalcoPriority.Debug;

    public string Source { get; set; } = "syscall";

    public List<string> Tags { get; set; } = [];

    public bool Enabled { get; set; } = true;

    public List<FalcoException> Exceptions { get; } = [];

    /// <summary>Where the rule was first defined (file:line).</summary>
    public required string Location { get; init; }

    internal CompiledCondition? Compiled { get; set; }

    internal Func<JsonElement, string>? RenderOutput { get; set; }
}
