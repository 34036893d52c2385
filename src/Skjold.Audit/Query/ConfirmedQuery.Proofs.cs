using System.Security.Cryptography;
using System.Text.Json;
using Skjold.Audit.Events;
using Skjold.Audit.Merkle;
using Skjold.Audit.Signing;
using Skjold.Audit.Storage;

namespace Skjold.Audit.Query;

/// <summary>How a confirmed query proves its rows: chunk proofs against the signed head, row checks against the payload, purged and erased ranges, and the term groups a query is answered from.</summary>
public sealed partial class ConfirmedQuery
{
    /// <summary>
    /// Proves every leaf of a chunk in the signed tree: the leaf hashes (from the payloads, or the
    /// stored ones where a purge or erasure record covers the leaf) rebuild the chunk's subtree, and
    /// one inclusion path from its first leaf, with the siblings inside the chunk recomputed, must
    /// lead to the signed root.
    /// </summary>
    private async Task ProveChunkAsync(long chunk, int bits, SignedTreeHead head, List<(long From, long To)> redacted, CancellationToken ct)
    {
        var first = chunk << bits;
        var count = 1 << bits;
        var leaves = new List<byte[]>(count);
        await foreach (var row in store.ReadRowsAsync(first, first + count, ct).ConfigureAwait(false))
        {
            var idx = row.Index;
            if (idx != first + leaves.Count)
            {
                throw new AuditQueryTamperedException(first + leaves.Count, $"leaf {first + leaves.Count} is missing: the answer would be incomplete; run 'skjold audit verify'");
            }

            if (!Covered(redacted, idx))
            {
                Confirm(row.Columns, row.Payload, redacted);
                if (!MerkleHash.Leaf(row.Payload!).AsSpan().SequenceEqual(row.LeafHash))
                {
                    throw new AuditQueryTamperedException(idx, $"leaf {idx}: the stored event does not match its leaf hash: it was changed; run 'skjold audit verify'");
                }
            }

            leaves.Add(row.LeafHash);
        }

        if (leaves.Count != count)
        {
            throw new AuditQueryTamperedException(first + leaves.Count, $"leaf {first + leaves.Count} is missing: the answer would be incomplete; run 'skjold audit verify'");
        }

        IReadOnlyList<byte[]> path;
        try
        {
            path = await MerkleTree.InclusionProofAsync(first, head.Size, store, ct).ConfigureAwait(false);
        }
        catch (InvalidOperationException ex)
        {
            throw new AuditQueryTamperedException(first, $"the leaves {first} to {first + count - 1} cannot be proven in the signed tree ({ex.Message}); run 'skjold audit verify'");
        }

        var spliced = new List<byte[]>(path.Count);
        for (var k = 0; k < bits; k++)
        {
            spliced.Add(SubtreeHash(leaves, 1 << k, 1 << k));
        }

        spliced.AddRange(path.Skip(bits));
        if (!MerkleTree.VerifyInclusion(first, head.Size, leaves[0], spliced, head.Root))
        {
            throw new AuditQueryTamperedException(first, $"the leaves {first} to {first + count - 1} are not those the signed tree holds: the answer would be forged; run 'skjold audit verify'");
        }
    }

    private static byte[] SubtreeHash(List<byte[]> leaves, int from, int count) =>
        count == 1 ? leaves[from] : MerkleHash.Node(SubtreeHash(leaves, from, count / 2), SubtreeHash(leaves, from + (count / 2), count / 2));

    private async Task<List<(AuditRecord Record, byte[]? Payload)>> FetchAsync(AuditQuery q, CancellationToken ct, bool payloads = true)
    {
        var list = new List<(AuditRecord, byte[]?)>();
        await foreach (var row in store.QueryAsync(q, payloads, ct).ConfigureAwait(false))
        {
            list.Add(row);
        }

        return list;
    }

    /// <summary>
    /// The row's fields as sealed: from its payload when it has one (which must match its leaf hash,
    /// unless an erasure record covers it, and its columns); null for a purged row a purge record covers.
    /// </summary>
    private static AuditRecord? Confirm(AuditRecord columns, byte[]? payload, List<(long From, long To)> redacted)
    {
        if (payload is null)
        {
            return columns.Purged && Covered(redacted, columns.Index)
                ? null
                : throw new AuditQueryTamperedException(columns.Index, $"leaf {columns.Index}: the payload is gone and no sealed purge record covers it: the answer would be incomplete; run 'skjold audit verify'");
        }

        var derived = Derive(columns.Index, payload)
            ?? throw new AuditQueryTamperedException(columns.Index, $"leaf {columns.Index}: the stored event is not valid JSON: it was changed; run 'skjold audit verify'");
        if (!SameFields(derived, columns))
        {
            throw new AuditQueryTamperedException(columns.Index, $"leaf {columns.Index}: the stored columns do not match the sealed event: the row was edited and the answer would be forged; run 'skjold audit verify'");
        }

        return derived;
    }

    private static AuditRecord? Derive(long index, byte[] payload)
    {
        try
        {
            using var doc = JsonDocument.Parse(payload);
            return AuditEventReader.Extract(doc.RootElement, index);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool SameFields(AuditRecord a, AuditRecord b) =>
        SqlAuditStore.Micros(a.Time) == SqlAuditStore.Micros(b.Time) && a.AuditId == b.AuditId && a.Stage == b.Stage && a.Verb == b.Verb
        && a.Username == b.Username && a.Groups.SequenceEqual(b.Groups) && a.SourceIp == b.SourceIp && a.UserAgent == b.UserAgent
        && a.Resource == b.Resource && a.Subresource == b.Subresource && a.Namespace == b.Namespace && a.Name == b.Name
        && a.ApiGroup == b.ApiGroup && a.Code == b.Code && a.RequestUri == b.RequestUri;

    /// <summary>Whether the chunk's stored columns hash to the sealed column digest.</summary>
    private static bool ColumnsMatch(long chunk, List<(AuditRecord Record, byte[]? Payload)> rows, ChunkSeals.Seal seal)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (r, _) in rows)
        {
            if (r.Purged)
            {
                return false;
            }

            ChunkSeals.AppendColumns(h, r.Index, SqlAuditStore.Micros(r.Time), r);
        }

        return h.GetHashAndReset().AsSpan().SequenceEqual(seal.Columns);
    }

    /// <summary>Leaf ranges that sealed purge and erasure records cover (their records proven under the signed head).</summary>
    private async Task<List<(long From, long To)>> RedactedRangesAsync(SignedTreeHead? head, CancellationToken ct)
    {
        var ranges = new List<(long, long)>();
        if (head is null)
        {
            return ranges;
        }

        var records = await FetchAsync(new AuditQuery { User = "skjold:audit", Resource = "auditlog", Verbs = ["purge", "erase"], Limit = int.MaxValue, ToIndex = head.Size }, ct).ConfigureAwait(false);
        foreach (var part in records.Chunk(512))
        {
            IReadOnlyList<IReadOnlyList<byte[]>> proofs;
            try
            {
                proofs = await MerkleTree.InclusionProofsAsync([.. part.Select(p => p.Record.Index)], head.Size, store, ct).ConfigureAwait(false);
            }
            catch (InvalidOperationException ex)
            {
                throw new AuditQueryTamperedException(part[0].Record.Index, $"the purge and erasure records cannot be proven in the signed tree ({ex.Message}); run 'skjold audit verify'");
            }

            for (var k = 0; k < part.Length; k++)
            {
                var (record, payload) = part[k];
                if (payload is null || !MerkleTree.VerifyInclusion(record.Index, head.Size, MerkleHash.Leaf(payload), proofs[k], head.Root))
                {
                    continue; // not a sealed record: it covers nothing
                }

                using var doc = JsonDocument.Parse(payload);
                if (!doc.RootElement.TryGetProperty("annotations"u8, out var ann) || ann.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                foreach (var p in ann.EnumerateObject())
                {
                    if (p.Name.EndsWith(".leaves", StringComparison.Ordinal) && p.Value.ValueKind == JsonValueKind.String)
                    {
                        ranges.AddRange(RedactionOutcome.ParseRanges(p.Value.GetString()!).Where(r => r.To < record.Index));
                    }
                }
            }
        }

        return ranges;
    }

    private static bool Covered(List<(long From, long To)> ranges, long leaf) => ranges.Any(r => r.From <= leaf && leaf <= r.To);

    private static long CountIn(List<(long From, long To)> ranges, long from, long to) =>
        ranges.Sum(r => Math.Max(0, Math.Min(r.To + 1, to) - Math.Max(r.From, from)));

    private static bool Carries(AuditRecord r, string[] group)
    {
        var list = new List<string>();
        ChunkSeals.Terms(r, list);
        return group.Any(t => list.Contains(t, StringComparer.Ordinal));
    }

    /// <summary>
    /// Groups of terms one of which every match carries: one term per single-valued filter, and the
    /// values of a verb, subresource or code filter together (an event carries at most one of them).
    /// </summary>
    private static List<string[]> Groups(AuditQuery q)
    {
        var groups = TermPostings.Of(q).Select(t => new[] { t }).ToList();
        if (q.Verbs.Count > 0)
        {
            groups.Add([.. q.Verbs.Distinct(StringComparer.Ordinal).Select(v => "v:" + v)]);
        }

        if (q.Subresources.Count > 0)
        {
            groups.Add([.. q.Subresources.Distinct(StringComparer.Ordinal).Select(v => "s:" + v)]);
        }

        if (q.Codes.Count > 0)
        {
            groups.Add([.. q.Codes.Distinct().Select(c => "c:" + ChunkSeals.CodeText(c))]);
        }

        return groups;
    }

    /// <summary>The store query that finds a group's rows by the store's index.</summary>
    private static AuditQuery GroupQuery(string[] group) => group[0][0] switch
    {
        'v' => new AuditQuery { Verbs = [.. group.Select(t => t[2..])] },
        's' => new AuditQuery { Subresources = [.. group.Select(t => t[2..])] },
        'c' => new AuditQuery { Codes = [.. group.Select(t => int.Parse(t[2..], System.Globalization.CultureInfo.InvariantCulture))] },
        _ => TermQuery(group[0]),
    };

    /// <summary>The store query that finds a term's rows by the store's index.</summary>
    private static AuditQuery TermQuery(string term)
    {
        var value = term[2..];
        return term[0] switch
        {
            'u' => new AuditQuery { User = value },
            'n' => new AuditQuery { Namespace = value },
            'i' => new AuditQuery { SourceIp = value },
            'R' => new AuditQuery { Resource = value },
            'r' => new AuditQuery { Resource = value[..value.LastIndexOf('/')], Namespace = value[(value.LastIndexOf('/') + 1)..] },
            'a' => new AuditQuery { ApiGroup = value },
            'g' => new AuditQuery { Group = value },
            'v' => new AuditQuery { Verbs = [value] },
            's' => new AuditQuery { Subresources = [value] },
            _ => new AuditQuery { Codes = [int.Parse(value, System.Globalization.CultureInfo.InvariantCulture)] },
        };
    }

    /// <summary>Every filter of the query, applied to re-derived fields.</summary>
    public static bool Matches(AuditQuery q, AuditRecord r)
    {
        if (q.FromIndex is { } f && r.Index < f)
        {
            return false;
        }

        if (q.ToIndex is { } t && r.Index >= t)
        {
            return false;
        }

        if ((q.Since is { } since && r.Time < since) || (q.Until is { } until && r.Time >= until))
        {
            return false;
        }

        if ((q.User is not null && r.Username != q.User) || (q.Resource is not null && r.Resource != q.Resource)
            || (q.Namespace is not null && r.Namespace != q.Namespace) || (q.ApiGroup is not null && r.ApiGroup != q.ApiGroup)
            || (q.SourceIp is not null && r.SourceIp != q.SourceIp))
        {
            return false;
        }

        if (q.Name is not null && !(r.Name == q.Name || (q.IncludeCollection && r.Name is null)))
        {
            return false;
        }

        if ((q.Verbs.Count > 0 && (r.Verb is null || !q.Verbs.Contains(r.Verb, StringComparer.Ordinal)))
            || (q.Subresources.Count > 0 && (r.Subresource is null || !q.Subresources.Contains(r.Subresource, StringComparer.Ordinal)))
            || (q.Codes.Count > 0 && (r.Code is null || !q.Codes.Contains(r.Code.Value))))
        {
            return false;
        }

        return q.Group is null || r.Groups.Contains(q.Group, StringComparer.Ordinal);
    }
}
