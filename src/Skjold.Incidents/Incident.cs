namespace Skjold.Incidents;

/// <summary>Where an incident stands.</summary>
public enum IncidentStatus
{
    Open,
    Contained,
    Closed,
}

/// <summary>What an incident is about: a pod, a secret, a node, or an identity or source address.</summary>
public sealed record IncidentTarget(string Kind, string? Namespace, string Name)
{
    public override string ToString() => Namespace is null ? $"{Kind} {Name}" : $"{Kind} {Namespace}/{Name}";
}

/// <summary>One entry of an incident's timeline: a change sealed in the trail (opened, note, update, closed).</summary>
public sealed record IncidentEntry(long Leaf, DateTimeOffset At, string Actor, string Kind, string Text);

/// <summary>Whether personal data is involved, with the reasoning (GDPR Art. 33(5) asks for documentation either way).</summary>
public sealed record PersonalDataAssessment(bool? Involved, string? Reasoning);

/// <summary>An incident, as the fold of its sealed events.</summary>
public sealed record Incident(
    string Id,
    IncidentType Type,
    IReadOnlyList<IncidentTarget> Targets,
    string Severity,
    DateTimeOffset AwareAt,
    string Owner,
    IncidentStatus Status,
    PersonalDataAssessment PersonalData,
    string? Resolution,
    IReadOnlyList<IncidentEntry> Timeline)
{
    public IEnumerable<IncidentEntry> Notes => Timeline.Where(e => e.Kind == IncidentEvents.Note);

    /// <summary>Runbook steps carried out for real (an apply resumes after them).</summary>
    public IReadOnlySet<int> AppliedSteps { get; init; } = new HashSet<int>();

    /// <summary>Whether this incident is a drill (a rehearsal in dry run): the open event's sealed <c>drill</c> field, not its text.</summary>
    public bool Drill { get; init; }
}
