namespace Skjold.Detection.Falco;

/// <summary>What a rule reports for an event.</summary>
public sealed record FalcoAlert(string Rule, FalcoPriority Priority, string Output, IReadOnlyList<string> Tags, string Source);
