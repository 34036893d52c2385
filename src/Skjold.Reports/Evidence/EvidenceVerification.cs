namespace Skjold.Reports.Evidence;

/// <summary>A bundle's verdict.</summary>
public enum EvidenceVerdict
{
    /// <summary>Signature and digest verify: the report is what the key's holder signed.</summary>
    Valid,

    /// <summary>A bundle, but altered or signed with another key.</summary>
    Invalid,

    /// <summary>Not a bundle at all, or the key is not a PEM public key: nothing could be checked.</summary>
    Malformed,
}

/// <summary>The outcome of verifying a bundle: the verdict, why (when not valid), and what it attests with the signed report's bytes (when valid).</summary>
public sealed record EvidenceVerification(EvidenceVerdict Verdict, string? Error, string? Summary, byte[]? Payload)
{
    public bool IsValid => Verdict == EvidenceVerdict.Valid;

    internal static EvidenceVerification Valid(string summary, byte[] payload) => new(EvidenceVerdict.Valid, null, summary, payload);

    internal static EvidenceVerification Invalid(string error) => new(EvidenceVerdict.Invalid, error, null, null);

    internal static EvidenceVerification Malformed(string error) => new(EvidenceVerdict.Malformed, error, null, null);
}
