using Skjold.SupplyChain.Cosign;
using Skjold.SupplyChain.Oci;

namespace Skjold.SupplyChain.Policy;

/// <summary>What the supply-chain policy concluded about one image.</summary>
public enum ImageDecision
{
    /// <summary>No rule covers the image in this namespace.</summary>
    NotCovered,

    /// <summary>An unexpired exemption covers it.</summary>
    Exempt,

    /// <summary>Enough signatures (and every required attestation) verified.</summary>
    Verified,

    /// <summary>The image does not meet its rule: unsigned, wrong signer, missing attestation, unreadable name.</summary>
    Failed,

    /// <summary>The registry could not be asked in time: no verdict either way.</summary>
    Unavailable,
}

/// <summary>The verdict on one image, with the rule behind it and the signatures looked at.</summary>
public sealed record ImageCheck(
    string Image,
    ImageReference? Reference,
    string? Digest,
    ImageRule? Rule,
    ImageExemption? Exemption,
    ImageDecision Decision,
    string Message,
    IReadOnlyList<ImageSignature> Signatures)
{
    /// <summary>True when this answer came from the verification cache (no registry request).</summary>
    public bool FromCache { get; init; }

    /// <summary>Refuses the pod: a failed or undecidable image under an enforcing rule (fail closed).</summary>
    public bool Denies => Decision is ImageDecision.Failed or ImageDecision.Unavailable && (Rule?.Mode ?? ImageRuleMode.Enforce) == ImageRuleMode.Enforce;

    /// <summary>Admitted, but the client is told: a failure under a warning rule, or an expiring exemption.</summary>
    public bool Warns => Decision is ImageDecision.Failed or ImageDecision.Unavailable && Rule?.Mode == ImageRuleMode.Warn;
}
