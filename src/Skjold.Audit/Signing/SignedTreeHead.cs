using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Skjold.Audit.Signing;

/// <summary>
/// A signed statement that the log held <see cref="Size"/> events with root <see cref="Root"/> at
/// <see cref="Timestamp"/>. Version 1 signs the ASCII label <c>skjold-sth-v1</c>, a zero byte, the
/// size (unsigned 64-bit big-endian), the time in Unix milliseconds (signed 64-bit big-endian) and
/// the 32-byte root. Version 2 (label <c>skjold-sth-v2</c>) signs the same followed by
/// <see cref="Extension"/>: the previous head's size and digest (so that a head deleted from the
/// middle breaks the chain) and the state of the sealed query index (chunk size in bits, number
/// of sealed chunks, and the chain over their seals). The signature is ECDSA P-256 with SHA-256,
/// DER encoded.
/// </summary>
public sealed record SignedTreeHead(long Size, DateTimeOffset Timestamp, byte[] Root, byte[] Signature, string KeyId)
{
    /// <summary>Bytes of the version 2 extension: previous size (8), previous digest (32), index bits (1), sealed chunks (8), index chain (32), seal of the open chunk's leaves up to this size (32).</summary>
    public const int ExtensionLength = 8 + 32 + 1 + 8 + 32 + 32;

    private static readonly byte[] LabelV1 = Encoding.ASCII.GetBytes("skjold-sth-v1\0");
    private static readonly byte[] LabelV2 = Encoding.ASCII.GetBytes("skjold-sth-v2\0");

    /// <summary>The version 2 fields; null for a version 1 head.</summary>
    public byte[]? Extension { get; init; }

    public int Version => Extension is null ? 1 : 2;

    /// <summary>Size of the head this one follows (0 for the first).</summary>
    public long PreviousSize => Extension is { } e ? (long)BinaryPrimitives.ReadUInt64BigEndian(e) : -1;

    public ReadOnlySpan<byte> PreviousDigest => Extension is { } e ? e.AsSpan(8, 32) : default;

    /// <summary>The sealed query index this head covers.</summary>
    public IndexState? Index => Extension is { Length: >= ExtensionLength } e
        ? new IndexState(e[40], (long)BinaryPrimitives.ReadUInt64BigEndian(e.AsSpan(41)), e.AsSpan(49, 32).ToArray()) { Partial = e.AsSpan(81, 32).ToArray() }
        : null;

    /// <summary>What this head commits to: SHA-256 of its signed bytes. The next head names it.</summary>
    public byte[] Digest() => SHA256.HashData(SignedBytes(Size, Timestamp, Root, Extension));

    public static byte[] SignedBytes(long size, DateTimeOffset timestamp, ReadOnlySpan<byte> root) => SignedBytes(size, timestamp, root, null);

    public static byte[] SignedBytes(long size, DateTimeOffset timestamp, ReadOnlySpan<byte> root, byte[]? extension)
    {
        var label = extension is null ? LabelV1 : LabelV2;
        var bytes = new byte[label.Length + 8 + 8 + root.Length + (extension?.Length ?? 0)];
        label.CopyTo(bytes, 0);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(label.Length), (ulong)size);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(label.Length + 8), timestamp.ToUnixTimeMilliseconds());
        root.CopyTo(bytes.AsSpan(label.Length + 16));
        extension?.CopyTo(bytes.AsSpan(label.Length + 16 + root.Length));
        return bytes;
    }

    public static byte[] MakeExtension(SignedTreeHead? previous, IndexState index)
    {
        var e = new byte[ExtensionLength];
        if (previous is not null)
        {
            BinaryPrimitives.WriteUInt64BigEndian(e, (ulong)previous.Size);
            previous.Digest().CopyTo(e.AsSpan(8));
        }

        e[40] = (byte)index.Bits;
        BinaryPrimitives.WriteUInt64BigEndian(e.AsSpan(41), (ulong)index.Chunks);
        index.Chain.CopyTo(e.AsSpan(49));
        index.Partial.CopyTo(e.AsSpan(81));
        return e;
    }
}

/// <summary>The sealed query index at a tree size: chunks of 2^<see cref="Bits"/> leaves, how many are sealed, and the chain over their seals.</summary>
public sealed record IndexState(int Bits, long Chunks, byte[] Chain)
{
    public static IndexState Empty(int bits) => new(bits, 0, new byte[32]);

    /// <summary>The digest of the seal over the leaves after the last complete chunk up to the head's size (zeros when there are none).</summary>
    public byte[] Partial { get; init; } = new byte[32];
}
