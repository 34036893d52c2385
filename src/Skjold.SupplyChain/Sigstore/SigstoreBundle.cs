using System.Security.Cryptography.X509Certificates;

namespace Skjold.SupplyChain.Sigstore;

/// <summary>
/// A parsed Sigstore bundle (media types <c>application/vnd.dev.sigstore.bundle+json;version=0.1|0.2|0.3</c>
/// and <c>application/vnd.dev.sigstore.bundle.v0.3+json</c>). Exactly one of <see cref="Certificate"/> and
/// <see cref="PublicKeyHint"/> is the verification material; exactly one of <see cref="MessageSignature"/> and
/// <see cref="Envelope"/> is the content.
/// </summary>
public sealed record SigstoreBundle(
    string MediaType,
    int MinorVersion,
    X509Certificate2? Certificate,
    IReadOnlyList<X509Certificate2> ChainRest,
    string? PublicKeyHint,
    IReadOnlyList<TransparencyLogEntry> TlogEntries,
    IReadOnlyList<byte[]> Rfc3161Timestamps,
    MessageSignature? MessageSignature,
    DsseEnvelope? Envelope)
{
    /// <summary>The signature the timestamps and log entries are about: the message signature or the envelope's one.</summary>
    public byte[] Signature => MessageSignature?.Signature ?? Envelope!.Signatures[0];
}

/// <summary>A signature over an artifact, with the unauthenticated digest hint.</summary>
public sealed record MessageSignature(string? DigestAlgorithm, byte[]? Digest, byte[] Signature);

/// <summary>A transparency log entry as the bundle carries it.</summary>
public sealed record TransparencyLogEntry(
    long LogIndex,
    byte[] LogId,
    string Kind,
    string Version,
    long? IntegratedTime,
    byte[]? SignedEntryTimestamp,
    InclusionProof? Proof,
    byte[] CanonicalizedBody);

/// <summary>An RFC 6962 inclusion proof with the log's signed checkpoint (a signed note).</summary>
public sealed record InclusionProof(long LogIndex, byte[] RootHash, long TreeSize, IReadOnlyList<byte[]> Hashes, string? Checkpoint);
