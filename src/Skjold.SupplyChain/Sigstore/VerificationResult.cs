namespace Skjold.SupplyChain.Sigstore;

/// <summary>The verdict on one bundle: verified or not (with the first failed check), and what was verified.</summary>
public sealed record VerificationResult(
    bool Verified,
    string? Failure,
    string? Identity,
    string? Issuer,
    IReadOnlyList<DateTimeOffset> SigningTimes,
    string? PredicateType)
{
    /// <summary>The in-toto statement of a verified DSSE bundle (for predicate checks such as the SLSA builder).</summary>
    public byte[]? Statement { get; init; }

    public static VerificationResult Fail(string why) => new(false, why, null, null, [], null);
}
