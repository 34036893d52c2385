namespace Skjold.Audit.Storage;

/// <summary>
/// Keeps matching events out of retention purges until released. Every given criterion must match;
/// a hold with none holds everything.
/// </summary>
public sealed record LegalHold(long Id, string Reason, string? Namespace, string? Username, string? Resource, DateTimeOffset Created, DateTimeOffset? Until);
