using Skjold.SupplyChain.Sigstore;

namespace Skjold.SupplyChain.Policy;

/// <summary>What a rule does when an image fails it: refuse the pod, or admit it with a warning.</summary>
public enum ImageRuleMode
{
    Enforce,
    Warn,
}

/// <summary>One accepted signer: a key or a certificate identity with its issuer, with how it is named in messages.</summary>
public sealed record SignatureAuthority(string Description, VerificationPolicy Policy);

/// <summary>An attestation that must accompany the image: a verified in-toto statement of this predicate type, from this builder when given.</summary>
public sealed record AttestationRequirement(string PredicateType, string? Builder)
{
    public override string ToString() => Builder is null ? PredicateType : $"{PredicateType} from {Builder}";
}

/// <summary>
/// Images matching <see cref="Images"/> (patterns as in registries.trusted) in namespaces matching
/// <see cref="Namespaces"/> (all when empty) must carry <see cref="Threshold"/> signatures verified by any of
/// <see cref="Authorities"/>, and every attestation of <see cref="Attestations"/>.
/// </summary>
public sealed record ImageRule(
    string Name,
    IReadOnlyList<string> Images,
    IReadOnlyList<string> Namespaces,
    ImageRuleMode Mode,
    bool MutateDigest,
    int Threshold,
    IReadOnlyList<SignatureAuthority> Authorities,
    bool TransparencyLog,
    IReadOnlyList<AttestationRequirement> Attestations);

/// <summary>Images that need no signature, for a stated reason, until a date (after which the exemption is void).</summary>
public sealed record ImageExemption(IReadOnlyList<string> Images, IReadOnlyList<string> Namespaces, string Reason, DateOnly Expires);
