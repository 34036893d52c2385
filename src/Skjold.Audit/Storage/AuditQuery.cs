namespace Skjold.Audit.Storage;

/// <summary>Filters for audit queries; every given filter must match. Results are in log order.</summary>
public sealed record AuditQuery
{
    public DateTimeOffset? Since { get; init; }

    public DateTimeOffset? Until { get; init; }

    public string? User { get; init; }

    public string? Group { get; init; }

    public IReadOnlyList<string> Verbs { get; init; } = [];

    public string? Resource { get; init; }

    public IReadOnlyList<string> Subresources { get; init; } = [];

    public string? Namespace { get; init; }

    public string? Name { get; init; }

    /// <summary>Matches events whose objectRef has no name (list and watch) as well as the named object.</summary>
    public bool IncludeCollection { get; init; }

    public string? ApiGroup { get; init; }

    public string? SourceIp { get; init; }

    public IReadOnlyList<int> Codes { get; init; } = [];

    public int Limit { get; init; } = 1000;

    /// <summary>Only leaves at or after this index (confirmed queries search chunk by chunk).</summary>
    public long? FromIndex { get; init; }

    /// <summary>Only leaves before this index.</summary>
    public long? ToIndex { get; init; }

    /// <summary>Newest first instead of log order.</summary>
    public bool Descending { get; init; }
}
