using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Skjold.Audit.Events;

namespace Skjold.Audit.Storage;

/// <summary>
/// The sealed query index. The log is cut into chunks of 2^bits leaves; when a chunk completes the
/// writer seals it: the time range of its events, a digest of every indexed column of every event
/// (in leaf order), and a manifest of the terms its events carry with how many carry each. The
/// seals are chained (each chain value hashes the previous one and the seal), and every signed
/// tree head signs the chain value of the chunks it covers. A query can then confirm, for the
/// chunks it searches, that the rows it found by an index are all the rows with that term
/// (the count must match the manifest), or that the columns it filtered on are the sealed ones
/// (the column digest must match), with the public key alone.
/// </summary>
public static partial class ChunkSeals
{
    private static readonly byte[] SealLabel = Encoding.ASCII.GetBytes("skjold-chunk-v1\0");
    private static readonly byte[] ChainLabel = Encoding.ASCII.GetBytes("skjold-index-v1\0");

    /// <summary>One sealed chunk as stored.</summary>
    public sealed record Seal(long Chunk, long MinTs, long MaxTs, byte[] Columns, byte[] Manifest, byte[] Digest, byte[] Chain)
    {
        /// <summary>How many events of the chunk carry the term (0 when none).</summary>
        public int Count(string term)
        {
            var hash = TermHash(term);
            int lo = 0, hi = (Manifest.Length / 12) - 1;
            while (lo <= hi)
            {
                var mid = (lo + hi) >>> 1;
                var h = BinaryPrimitives.ReadUInt64BigEndian(Manifest.AsSpan(mid * 12));
                if (h == hash)
                {
                    return (int)BinaryPrimitives.ReadUInt32BigEndian(Manifest.AsSpan((mid * 12) + 8));
                }

                if (h < hash)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid - 1;
                }
            }

            return 0;
        }

        /// <summary>Whether the stored digest is the one of the stored parts.</summary>
        public bool IsConsistent => Digest.AsSpan().SequenceEqual(DigestOf(Chunk, MinTs, MaxTs, Columns, Manifest));
    }

    /// <summary>Adds one event to a chunk's column digest: its leaf index and the hash of its columns.</summary>
    public static void AppendColumns(IncrementalHash hash, long index, long ts, AuditRecord f) => AppendColumnHash(hash, index, ColumnHash(ts, f));

    public static void AppendColumnHash(IncrementalHash hash, long index, ReadOnlySpan<byte> columnHash)
    {
        Span<byte> n = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(n, index);
        hash.AppendData(n);
        hash.AppendData(columnHash);
    }

    /// <summary>SHA-256 of an event's indexed columns in canonical form: time, then each field length-prefixed (one buffer, no allocation per field).</summary>
    public static byte[] ColumnHash(long ts, AuditRecord f)
    {
        var result = new byte[32];
        ColumnHash(ts, f, result);
        return result;
    }

    public static void ColumnHash(long ts, AuditRecord f, Span<byte> destination)
    {
        var max = CanonicalMax(f);
        var rented = max <= 1024 ? null : System.Buffers.ArrayPool<byte>.Shared.Rent(max);
        Span<byte> buffer = rented ?? stackalloc byte[1024];
        var n = WriteCanonical(ts, f, buffer);
        SHA256.HashData(buffer[..n], destination);
        if (rented is not null)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Whether <paramref name="canonical"/> is the canonical form of the fields' columns.</summary>
    internal static bool CanonicalEquals(AuditRecord f, ReadOnlySpan<byte> canonical)
    {
        var max = CanonicalMax(f);
        var rented = max <= 1024 ? null : System.Buffers.ArrayPool<byte>.Shared.Rent(max);
        Span<byte> buffer = rented ?? stackalloc byte[1024];
        var n = WriteCanonical(SqlAuditStore.Micros(f.Time), f, buffer);
        var same = buffer[..n].SequenceEqual(canonical);
        if (rented is not null)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }

        return same;
    }

    private static int CanonicalMax(AuditRecord f) =>
        16 + (14 * 4) + Max(f.AuditId) + Max(f.Stage) + Max(f.Verb) + Max(f.Username) + Max(f.SourceIp) + Max(f.UserAgent) + Max(f.Resource)
        + Max(f.Subresource) + Max(f.Namespace) + Max(f.Name) + Max(f.ApiGroup) + Max(CodeText(f.Code)) + Max(f.RequestUri) + Max(SqlAuditStore.JoinGroups(f.Groups));

    /// <summary>
    /// The canonical form of an event's indexed columns: time (microseconds, big-endian), then audit id,
    /// stage, verb, user, source IP, user agent, resource, subresource, namespace, name, API group,
    /// code (decimal), request URI and groups (newline-joined), each as a big-endian length (-1 for
    /// none) and its UTF-8 bytes.
    /// </summary>
    private static int WriteCanonical(long ts, AuditRecord f, Span<byte> buffer)
    {
        BinaryPrimitives.WriteInt64BigEndian(buffer, ts);
        var n = 8;
        n += Text(buffer[n..], f.AuditId);
        n += Text(buffer[n..], f.Stage);
        n += Text(buffer[n..], f.Verb);
        n += Text(buffer[n..], f.Username);
        n += Text(buffer[n..], f.SourceIp);
        n += Text(buffer[n..], f.UserAgent);
        n += Text(buffer[n..], f.Resource);
        n += Text(buffer[n..], f.Subresource);
        n += Text(buffer[n..], f.Namespace);
        n += Text(buffer[n..], f.Name);
        n += Text(buffer[n..], f.ApiGroup);
        n += Text(buffer[n..], CodeText(f.Code));
        n += Text(buffer[n..], f.RequestUri);
        n += Text(buffer[n..], SqlAuditStore.JoinGroups(f.Groups));
        return n;
    }

    /// <summary>Decodes the canonical form back into a record (the stored columns, for naming a mismatch).</summary>
    internal static AuditRecord ReadCanonical(long index, bool purged, ReadOnlySpan<byte> c)
    {
        var ts = BinaryPrimitives.ReadInt64BigEndian(c);
        var at = 8;
        string? Next(ReadOnlySpan<byte> c)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(c[at..]);
            at += 4;
            if (length < 0)
            {
                return null;
            }

            var value = Encoding.UTF8.GetString(c.Slice(at, length));
            at += length;
            return value;
        }

        var (auditId, stage, verb, user, ip, agent, resource, sub, ns, name, group) =
            (Next(c), Next(c), Next(c), Next(c), Next(c), Next(c), Next(c), Next(c), Next(c), Next(c), Next(c));
        var code = Next(c);
        var uri = Next(c);
        var groups = Next(c);
        return new AuditRecord(index, DateTimeOffset.UnixEpoch.AddTicks(ts * 10), auditId, stage, verb, user, groups is null ? [] : groups.Split('\n'),
            ip, agent, resource, sub, ns, name, group, code is null ? null : int.Parse(code, System.Globalization.CultureInfo.InvariantCulture), uri)
        {
            Purged = purged,
        };
    }

    private static int Max(string? s) => s is null ? 0 : Encoding.UTF8.GetMaxByteCount(s.Length);

    private static int Text(Span<byte> into, string? value)
    {
        if (value is null)
        {
            BinaryPrimitives.WriteInt32BigEndian(into, -1);
            return 4;
        }

        var length = Encoding.UTF8.GetBytes(value, into[4..]);
        BinaryPrimitives.WriteInt32BigEndian(into, length);
        return 4 + length;
    }

    private static readonly string[] Codes = [.. Enumerable.Range(0, 600).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>A response code as text, without a new string for the usual ones.</summary>
    public static string? CodeText(int? code) => code is { } c ? c is >= 0 and < 600 ? Codes[c] : c.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;

    public static byte[] DigestOf(long chunk, long minTs, long maxTs, ReadOnlySpan<byte> columns, ReadOnlySpan<byte> manifest)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        h.AppendData(SealLabel);
        Span<byte> n = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(n, chunk);
        h.AppendData(n);
        BinaryPrimitives.WriteInt64BigEndian(n, minTs);
        h.AppendData(n);
        BinaryPrimitives.WriteInt64BigEndian(n, maxTs);
        h.AppendData(n);
        h.AppendData(columns);
        h.AppendData(manifest);
        return h.GetHashAndReset();
    }

    public static byte[] ChainOf(ReadOnlySpan<byte> previous, ReadOnlySpan<byte> digest)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        h.AppendData(ChainLabel);
        h.AppendData(previous);
        h.AppendData(digest);
        return h.GetHashAndReset();
    }

    /// <summary>Collects the open chunk's seal as events are appended (owned by the writer).</summary>
    public sealed class Sealer : IDisposable
    {
        private readonly int _bits;
        private readonly IncrementalHash _columns = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly Dictionary<TermPostings.Term, int> _counts = [];
        private long _min = long.MaxValue;
        private long _max = long.MinValue;

        public Sealer(int bits, long chunk, byte[] previousChain)
        {
            _bits = bits;
            Chunk = chunk;
            Next = chunk << bits;
            PreviousChain = previousChain;
        }

        public long Chunk { get; }

        /// <summary>The next leaf index this sealer expects.</summary>
        public long Next { get; private set; }

        public byte[] PreviousChain { get; }

        public bool Complete => Next == (Chunk + 1) << _bits;

        public void Add(long index, long ts, AuditRecord fields)
        {
            if (index != Next)
            {
                throw new InvalidOperationException($"chunk seal expected leaf {Next}, got {index}");
            }

            Span<byte> columnHash = stackalloc byte[32];
            ColumnHash(ts, fields, columnHash);
            AppendColumnHash(_columns, index, columnHash);
            CountTerms(fields, _counts);
            _min = Math.Min(_min, ts);
            _max = Math.Max(_max, ts);
            Next = index + 1;
        }

        /// <summary>The seal of the leaves added so far, without closing the chunk (what a tree head of this size signs).</summary>
        public Seal Snapshot() => Make(_columns.GetCurrentHash());

        public Seal Finish() => Make(_columns.GetHashAndReset());

        private Seal Make(byte[] columns)
        {
            var entries = _counts.Select(kv => (Hash: TermHash(kv.Key.ToString()), kv.Value)).OrderBy(e => e.Hash).ToList();
            var manifest = new byte[entries.Count * 12];
            for (var i = 0; i < entries.Count; i++)
            {
                BinaryPrimitives.WriteUInt64BigEndian(manifest.AsSpan(i * 12), entries[i].Hash);
                BinaryPrimitives.WriteUInt32BigEndian(manifest.AsSpan((i * 12) + 8), (uint)entries[i].Value);
            }

            var min = _min == long.MaxValue ? 0 : _min;
            var max = _max == long.MinValue ? 0 : _max;
            var digest = DigestOf(Chunk, min, max, columns, manifest);
            return new Seal(Chunk, min, max, columns, manifest, digest, ChainOf(PreviousChain, digest));
        }

        public void Dispose() => _columns.Dispose();
    }
}
