using System.Buffers.Binary;
using System.Text;

namespace Skjold.Audit.Signing;

/// <summary>
/// A signed statement that the log held <see cref="Size"/> events with root <see cref="Root"/> at
/// <see cref="Timestamp"/>. The signed bytes are the ASCII label <c>skjold-sth-v1</c>, a zero byte,
/// the size (unsigned 64-bit big-endian), the time in Unix milliseconds (signed 64-bit big-endian)
/// and the 32-byte root; the signature is ECDSA P-256 with SHA-256, DER encoded.
/// </summary>
public sealed record SignedTreeHead(long Size, DateTimeOffset Timestamp, byte[] Root, byte[] Signature, string KeyId)
{
    private static readonly byte[] Label = Encoding.ASCII.GetBytes("skjold-sth-v1\0");

    public static byte[] SignedBytes(long size, DateTimeOffset timestamp, ReadOnlySpan<byte> root)
    {
        var bytes = new byte[Label.Length + 8 + 8 + root.Length];
        Label.CopyTo(bytes, 0);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(Label.Length), (ulong)size);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(Label.Length + 8), timestamp.ToUnixTimeMilliseconds());
        root.CopyTo(bytes.AsSpan(Label.Length + 16));
        return bytes;
    }
}
