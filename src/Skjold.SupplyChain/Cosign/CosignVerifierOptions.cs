namespace Skjold.SupplyChain.Cosign;

/// <summary>How image signatures are looked up and judged.</summary>
public sealed record CosignVerifierOptions
{
    /// <summary>
    /// Require a transparency log entry (cosign's default). Off only for key-based signatures made offline
    /// (<c>cosign sign --tlog-upload=false</c>); keyless signatures always need one.
    /// </summary>
    public bool RequireTransparencyLog { get; init; } = true;

    /// <summary>At most this many signatures of each layout are examined per image (a hostile registry cannot make admission verify thousands).</summary>
    public int MaxSignatures { get; init; } = 16;
}
