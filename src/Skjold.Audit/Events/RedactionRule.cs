namespace Skjold.Audit.Events;

/// <summary>An extra redaction: for objects of these resources (plural, lower case), these top-level fields.</summary>
public sealed record RedactionRule(IReadOnlyList<string> Resources, IReadOnlyList<string> Fields);
