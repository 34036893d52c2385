namespace Skjold.Audit.Events;

/// <summary>
/// The indexed fields of one sealed audit event, as stored and queried. <see cref="Index"/> is its
/// leaf index in the Merkle log. After a retention purge only the index, time and leaf hash remain.
/// </summary>
public sealed record AuditRecord(
    long Index,
    DateTimeOffset Time,
    string? AuditId,
    string? Stage,
    string? Verb,
    string? Username,
    IReadOnlyList<string> Groups,
    string? SourceIp,
    string? UserAgent,
    string? Resource,
    string? Subresource,
    string? Namespace,
    string? Name,
    string? ApiGroup,
    int? Code,
    string? RequestUri)
{
    public bool Purged { get; init; }
}
