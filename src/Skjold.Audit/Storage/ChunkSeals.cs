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
public static class ChunkSeals
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

    /// <summary>A term's 64-bit key in manifests: the first 8 bytes of SHA-256 of its text.</summary>
    public static ulong TermHash(string term)
    {
        Span<byte> h = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(term), h);
        return BinaryPrimitives.ReadUInt64BigEndian(h);
    }

    /// <summary>
    /// The terms an event carries: those of the term index (user, namespace, source IP, resource,
    /// resource in a namespace, API group, explicit groups) and its verb, subresource and code.
    /// </summary>
    public static void Terms(AuditRecord f, List<string> into)
    {
        into.Clear();
        if (f.Username is { } u)
        {
            into.Add("u:" + u);
        }

        if (f.Namespace is { } ns)
        {
            into.Add("n:" + ns);
        }

        if (f.SourceIp is { } ip)
        {
            into.Add("i:" + ip);
        }

        if (f.Resource is { } r)
        {
            into.Add("R:" + r);
            if (f.Namespace is not null)
            {
                into.Add($"r:{r}/{f.Namespace}");
            }
        }

        if (!string.IsNullOrEmpty(f.ApiGroup))
        {
            into.Add("a:" + f.ApiGroup);
        }

        foreach (var g in f.Groups.Distinct(StringComparer.Ordinal))
        {
            if (!SqlAuditStore.IsImplicitGroup(g))
            {
                into.Add("g:" + g);
            }
        }

        if (f.Verb is { } v)
        {
            into.Add("v:" + v);
        }

        if (f.Subresource is { } s)
        {
            into.Add("s:" + s);
        }

        if (f.Code is { } c)
        {
            into.Add("c:" + c.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Terms every match of the query must carry (any one of them bounds the candidates).</summary>
    public static List<string> Terms(AuditQuery q)
    {
        var terms = TermPostings.Of(q).ToList();
        if (q.Verbs.Count == 1)
        {
            terms.Add("v:" + q.Verbs[0]);
        }

        if (q.Subresources.Count == 1)
        {
            terms.Add("s:" + q.Subresources[0]);
        }

        if (q.Codes.Count == 1)
        {
            terms.Add("c:" + q.Codes[0].ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return terms;
    }

    /// <summary>The canonical bytes of an event's indexed columns, as the column digest hashes them.</summary>
    public static void AppendColumns(IncrementalHash hash, long index, long ts, AuditRecord f)
    {
        Span<byte> n = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(n, index);
        hash.AppendData(n);
        BinaryPrimitives.WriteInt64BigEndian(n, ts);
        hash.AppendData(n);
        Text(hash, f.AuditId);
        Text(hash, f.Stage);
        Text(hash, f.Verb);
        Text(hash, f.Username);
        Text(hash, f.SourceIp);
        Text(hash, f.UserAgent);
        Text(hash, f.Resource);
        Text(hash, f.Subresource);
        Text(hash, f.Namespace);
        Text(hash, f.Name);
        Text(hash, f.ApiGroup);
        Text(hash, f.Code?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Text(hash, f.RequestUri);
        Text(hash, SqlAuditStore.JoinGroups(f.Groups));
    }

    private static void Text(IncrementalHash hash, string? value)
    {
        Span<byte> len = stackalloc byte[4];
        if (value is null)
        {
            BinaryPrimitives.WriteInt32BigEndian(len, -1);
            hash.AppendData(len);
            return;
        }

        var bytes = Encoding.UTF8.GetBytes(value);
        BinaryPrimitives.WriteInt32BigEndian(len, bytes.Length);
        hash.AppendData(len);
        hash.AppendData(bytes);
    }

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
        private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);
        private readonly List<string> _terms = [];
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

            AppendColumns(_columns, index, ts, fields);
            Terms(fields, _terms);
            foreach (var t in _terms)
            {
                _counts[t] = _counts.GetValueOrDefault(t) + 1;
            }

            _min = Math.Min(_min, ts);
            _max = Math.Max(_max, ts);
            Next = index + 1;
        }

        public Seal Finish()
        {
            var columns = _columns.GetHashAndReset();
            var entries = _counts.Select(kv => (Hash: TermHash(kv.Key), kv.Value)).OrderBy(e => e.Hash).ToList();
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
