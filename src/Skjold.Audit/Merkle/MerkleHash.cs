using System.Security.Cryptography;

namespace Skjold.Audit.Merkle;

/// <summary>RFC 6962 hashing: leaves are SHA-256(0x00 || data), interior nodes SHA-256(0x01 || left || right).</summary>
public static class MerkleHash
{
    public const int Size = 32;

    /// <summary>The hash of the empty tree: SHA-256 of nothing.</summary>
    public static byte[] Empty { get; } = SHA256.HashData([]);

    public static byte[] Leaf(ReadOnlySpan<byte> data)
    {
        var result = new byte[Size];
        Leaf(data, result);
        return result;
    }

    public static void Leaf(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData([0x00]);
        hash.AppendData(data);
        hash.GetHashAndReset(destination);
    }

    public static byte[] Node(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        Span<byte> buffer = stackalloc byte[1 + (2 * Size)];
        buffer[0] = 0x01;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + Size)..]);
        return SHA256.HashData(buffer);
    }

    /// <summary>The largest power of two strictly smaller than <paramref name="n"/> (n &gt; 1).</summary>
    public static long SplitPoint(long n)
    {
        var k = 1L;
        while (k << 1 < n)
        {
            k <<= 1;
        }

        return k;
    }
}
