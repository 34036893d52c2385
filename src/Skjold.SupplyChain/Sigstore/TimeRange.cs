namespace Skjold.SupplyChain.Sigstore;

/// <summary>A closed validity interval from a trusted root; <see cref="End"/> null means still valid.</summary>
public sealed record TimeRange(DateTimeOffset Start, DateTimeOffset? End)
{
    /// <summary>Both ends count: a time equal to the end is inside, as the trusted root's TimeRange defines.</summary>
    public bool Contains(DateTimeOffset time) => time >= Start && (End is null || time <= End.Value);
}
