using System.Security.Cryptography;

namespace Skjold.SupplyChain.Sigstore;

/// <summary>What was signed: the bytes, or (for an image) only its SHA-256 digest.</summary>
public sealed record Artifact(byte[]? Bytes, byte[] Sha256)
{
    public static Artifact FromBytes(byte[] bytes) => new(bytes, SHA256.HashData(bytes));

    public static Artifact FromDigest(byte[] sha256) =>
        sha256.Length == 32 ? new(null, sha256) : throw new ArgumentException("a SHA-256 digest is 32 bytes", nameof(sha256));

    public string Hex => Convert.ToHexStringLower(Sha256);
}
