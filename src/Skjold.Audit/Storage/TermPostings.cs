using System.Buffers.Binary;

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
    /// <summary>
    /// A term: its kind (u user, n namespace, i source IP, R resource, r resource in a namespace,
    /// a API group, g group) and value. Stored as text, "u:alice" or "r:secrets/payments".
    /// </summary>
    public readonly record struct Term(char Kind, string Value, string? Scope = null)
    {
        public override string ToString() => Scope is null ? $"{Kind}:{Value}" : $"{Kind}:{Value}/{Scope}";
    }

    /// <summary>Terms every match of the query carries; any one of them narrows the candidates.</summary>
    public static IEnumerable<string> Of(AuditQuery q)
    {
        if (q.User is not null)
        {
            yield return new Term('u', q.User).ToString();
        }

        if (q.Namespace is not null)
        {
            yield return new Term('n', q.Namespace).ToString();
        }

        if (q.SourceIp is not null)
        {
            yield return new Term('i', q.SourceIp).ToString();
        }

        if (q.Resource is not null)
        {
            yield return (q.Namespace is not null ? new Term('r', q.Resource, q.Namespace) : new Term('R', q.Resource)).ToString();
        }

        if (!string.IsNullOrEmpty(q.ApiGroup))
        {
            yield return new Term('a', q.ApiGroup).ToString();
        }

        if (q.Group is not null && !SqlAuditStore.IsImplicitGroup(q.Group))
        {
            yield return new Term('g', q.Group).ToString();
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
    /// <param name="reuse">A finished chunk's term table to clear and fill again (it has grown to the right size).</param>
    public sealed class OpenChunk(long chunk, int chunkSize, Dictionary<Term, List<int>>? reuse = null)
    {
        public long Chunk { get; } = chunk;

        public long Start => Chunk * chunkSize;

        /// <summary>The next leaf index this accumulator expects.</summary>
        public long Next { get; set; } = chunk * chunkSize;

        public long MinTs { get; private set; } = long.MaxValue;

        public long MaxTs { get; private set; } = long.MinValue;

        public Dictionary<Term, List<int>> Terms { get; } = Cleared(reuse);

        private static Dictionary<Term, List<int>> Cleared(Dictionary<Term, List<int>>? table)
        {
            table?.Clear();
            return table ?? [];
        }

        /// <summary>Files leaf <paramref name="idx"/> under the terms of its fields (without building any strings).</summary>
        public void Add(long idx, long ts, string? user, string? ns, string? ip, string? resource, string? apiGroup, IReadOnlyList<string> groups)
        {
            var offset = (int)(idx - Start);
            if (user is not null)
            {
                Put(new Term('u', user), offset);
            }

            if (ns is not null)
            {
                Put(new Term('n', ns), offset);
            }

            if (ip is not null)
            {
                Put(new Term('i', ip), offset);
            }

            if (resource is not null)
            {
                Put(new Term('R', resource), offset);
                if (ns is not null)
                {
                    Put(new Term('r', resource, ns), offset);
                }
            }

            if (!string.IsNullOrEmpty(apiGroup))
            {
                Put(new Term('a', apiGroup), offset);
            }

            for (var i = 0; i < groups.Count; i++)
            {
                if (!SqlAuditStore.IsImplicitGroup(groups[i]))
                {
                    Put(new Term('g', groups[i]), offset);
                }
            }

            MinTs = Math.Min(MinTs, ts);
            MaxTs = Math.Max(MaxTs, ts);
            Next = idx + 1;
        }

        private void Put(Term term, int offset)
        {
            if (!Terms.TryGetValue(term, out var list))
            {
                Terms[term] = list = [];
            }

            // A group can repeat within an event; offsets stay strictly ascending.
            if (list.Count == 0 || list[^1] != offset)
            {
                list.Add(offset);
            }
        }

        public bool Complete => Next == Start + chunkSize;
    }
}
