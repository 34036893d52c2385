using Skjold.Audit.Events;

namespace Skjold.Audit;

/// <summary>How the log seals: tree heads every <see cref="SignEvery"/> events or <see cref="SignInterval"/>, and what is redacted.</summary>
public sealed record AuditLogOptions
{
    public int SignEvery { get; init; } = 10_000;

    public TimeSpan SignInterval { get; init; } = TimeSpan.FromSeconds(10);

    public IReadOnlyList<RedactionRule> Redaction { get; init; } = [];

    /// <summary>Most events committed in one transaction when concurrent appends are grouped.</summary>
    public int MaxBatch { get; init; } = 8192;
}
