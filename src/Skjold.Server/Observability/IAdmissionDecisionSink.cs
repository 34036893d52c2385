namespace Skjold.Server.Observability;

/// <summary>
/// Receives every admission decision (not dry runs). The audit trail consumes it; the default
/// does nothing. Implementations must not block: admission latency depends on it.
/// </summary>
public interface IAdmissionDecisionSink
{
    void Record(AdmissionDecisionRecord record);
}

/// <summary>One admission decision, without the object itself (which may hold secrets).</summary>
public sealed record AdmissionDecisionRecord(
    DateTimeOffset Time,
    string Uid,
    string Endpoint,
    string Operation,
    string Kind,
    string? Namespace,
    string? Name,
    string Username,
    bool Allowed,
    string Decision,
    IReadOnlyList<string> Checks,
    IReadOnlyList<string> Mutations);

/// <summary>The default sink: discards decisions.</summary>
public sealed class NullDecisionSink : IAdmissionDecisionSink
{
    public static NullDecisionSink Instance { get; } = new();

    public void Record(AdmissionDecisionRecord record)
    {
    }
}
