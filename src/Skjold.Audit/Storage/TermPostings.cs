using System.Buffers.Binary;
using Skjold.Audit.Events;

namespace Skjold.Audit.Storage;

/// <summary>
/// The terms of the embedded store's chunked index. The log is cut into chunks of 2^bits leaves;
/// for every completed chunk the store keeps, per term (a user, namespace, source IP, resource,
/// resource in a namespace, API group or group), the offsets of the chunk's events that carry it.
/// A query takes one of its terms as a necessary condition, reads that term's postings, and checks
/// every filter on the candidate rows themselves, so postings only have to be a superset.
/// </summary>
internal static class TermPostings
{
    /// <summary>The terms an event is filed under.</summary>
    public static IEnumerable<string> Of(string? user, string? ns, string? ip, string? resource, string? apiGroup, IReadOnlyList<string> groups)
    {
        if (user is not null)
        {
            yield return "u:" + user;
        }

        if (ns is not null)
        {
            yield return "n:" + ns;
        }

        if (ip is not null)
        {
            yield return "i:" + ip;
        }

        if (resource is not null)
        {
            yield return "R:" + resource;
            if (ns is not null)
            {
                yield return "r:" + resource + "/" + ns;
            }
        }

        if (!string.IsNullOrEmpty(apiGroup))
        {
            yield return "a:" + apiGroup;
        }

        foreach (var g in groups)
        {
            if (!SqlAuditStore.IsImplicitGroup(g))
            {
                yield return "g:" + g;
            }
        }
    }

    /// <summary>Terms every match of the query carries; any one of them narrows the candidates.</summary>
    public static IEnumerable<string> Of(AuditQuery q)
    {
        if (q.User is not null)
        {
            yield return "u:" + q.User;
        }

        if (q.Namespace is not null)
        {
            yield return "n:" + q.Namespace;
        }

        if (q.SourceIp is not null)
        {
            yield return "i:" + q.SourceIp;
        }

        if (q.Resource is not null)
        {
            yield return q.Namespace is not null ? "r:" + q.Resource + "/" + q.Namespace : "R:" + q.Resource;
        }

        if (!string.IsNullOrEmpty(q.ApiGroup))
        {
            yield return "a:" + q.ApiGroup;
        }

        if (q.Group is not null && !SqlAuditStore.IsImplicitGroup(q.Group))
        {
            yield return "g:" + q.Group;
        }
    }

    /// <summary>
    /// Offsets within a chunk, ascending: two bytes each, or a bitmap of the whole chunk (marked by
    /// a leading 0xFF byte) when that is smaller.
    /// </summary>
    public static byte[] Encode(List<int> offsets, int chunkSize)
    {
        var bitmapBytes = (chunkSize + 7) / 8;
        if (offsets.Count * 2 > bitmapBytes + 1)
        {
            var bitmap = new byte[bitmapBytes + 1];
            bitmap[0] = 0xFF;
            foreach (var o in offsets)
            {
                bitmap[1 + (o >> 3)] |= (byte)(1 << (o & 7));
            }

            return bitmap;
        }

        var list = new byte[offsets.Count * 2];
        for (var i = 0; i < offsets.Count; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(list.AsSpan(i * 2), (ushort)offsets[i]);
        }

        return list;
    }

    public static void Decode(ReadOnlySpan<byte> data, long chunkStart, int chunkSize, List<long> into)
    {
        if (data.Length == ((chunkSize + 7) / 8) + 1 && data[0] == 0xFF)
        {
            for (var o = 0; o < chunkSize; o++)
            {
                if ((data[1 + (o >> 3)] & (1 << (o & 7))) != 0)
                {
                    into.Add(chunkStart + o);
                }
            }

            return;
        }

        for (var i = 0; i + 1 < data.Length; i += 2)
        {
            into.Add(chunkStart + BinaryPrimitives.ReadUInt16LittleEndian(data[i..]));
        }
    }

    /// <summary>The postings of the open (not yet completed) chunk, kept by the writer.</summary>
    public sealed class OpenChunk(long chunk, int chunkSize)
    {
        public long Chunk { get; } = chunk;

        public long Start => Chunk * chunkSize;

        /// <summary>The next leaf index this accumulator expects.</summary>
        public long Next { get; set; } = chunk * chunkSize;

        public long MinTs { get; private set; } = long.MaxValue;

        public long MaxTs { get; private set; } = long.MinValue;

        public Dictionary<string, List<int>> Terms { get; } = new(StringComparer.Ordinal);

        public void Add(long idx, long ts, IEnumerable<string> terms)
        {
            var offset = (int)(idx - Start);
            foreach (var t in terms)
            {
                if (!Terms.TryGetValue(t, out var list))
                {
                    Terms[t] = list = [];
                }

                // Groups can repeat within an event; offsets stay strictly ascending.
                if (list.Count == 0 || list[^1] != offset)
                {
                    list.Add(offset);
                }
            }

            MinTs = Math.Min(MinTs, ts);
            MaxTs = Math.Max(MaxTs, ts);
            Next = idx + 1;
        }

        public bool Complete => Next == Start + chunkSize;
    }
}
