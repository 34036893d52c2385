namespace Skjold.SupplyChain.Cosign;

/// <summary>One signature found for an image and what its verification said.</summary>
public sealed record ImageSignature(
    string Layout,
    bool Verified,
    string? Failure,
    string? Identity,
    string? Issuer,
    string? Key,
    string? PredicateType,
    DateTimeOffset? SignedAt)
{
    /// <summary>The verified in-toto statement of an attestation.</summary>
    public byte[]? Statement { get; init; }

    /// <summary>Which of the policy's authorities (by position) verified it; -1 when none did.</summary>
    public int Authority { get; init; } = -1;
}

/// <summary>The verdict on an image: how many signatures verified against the policy, and each one found.</summary>
public sealed record ImageVerification(string Image, string Digest, IReadOnlyList<ImageSignature> Signatures)
{
    public int VerifiedCount
    {
        get
        {
            var n = 0;
            foreach (var s in Signatures)
            {
                n += s.Verified && s.PredicateType is null ? 1 : 0;
            }

            return n;
        }
    }

    /// <summary>Verified attestations by predicate type.</summary>
    public IEnumerable<ImageSignature> Attestations(string predicateType)
    {
        foreach (var s in Signatures)
        {
            if (s.Verified && s.PredicateType == predicateType)
            {
                yield return s;
            }
        }
    }
}
