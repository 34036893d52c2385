namespace Skjold.Audit;

/// <summary>Where an audit trail lives: PostgreSQL (production, shared by replicas) or an embedded SQLite directory, and its keys.</summary>
public sealed record AuditStoreLocation
{
    /// <summary>The embedded store's directory (and the keys' unless <see cref="KeyDirectory"/>); unused when <see cref="Postgres"/> is set.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>A PostgreSQL connection string; when set, the trail is in PostgreSQL.</summary>
    public string? Postgres { get; init; }

    /// <summary>Where the signing, redaction and public keys are (default: <see cref="DataDirectory"/>).</summary>
    public string? KeyDirectory { get; init; }

    public string Keys => KeyDirectory ?? DataDirectory;

    public bool IsPostgres => !string.IsNullOrEmpty(Postgres);
}
