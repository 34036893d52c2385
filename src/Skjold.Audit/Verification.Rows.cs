using System.Text.Json;
using Skjold.Audit.Events;
using Skjold.Audit.Merkle;
using Skjold.Audit.Storage;

namespace Skjold.Audit;

/// <summary>What verification derives from each stored row (the sealed fields, terms and records) and how it reads ahead and locates a bad leaf.</summary>
public static partial class AuditVerifier
{
    private static long Position((int Level, long Index, byte[] Hash) n) => ((n.Index + 1) << n.Level) * 64 + n.Level;

    /// <summary>The first of <paramref name="leaves"/> (ascending) not in <paramref name="have"/> (ascending), or null.</summary>
    private static long? MissingFrom(List<long> leaves, List<long>? have)
    {
        if (have is null)
        {
            return leaves.Count > 0 ? leaves[0] : null;
        }

        var j = 0;
        foreach (var leaf in leaves)
        {
            while (j < have.Count && have[j] < leaf)
            {
                j++;
            }

            if (j >= have.Count || have[j] != leaf)
            {
                return leaf;
            }
        }

        return null;
    }

    /// <summary>An async sequence read ahead into memory on demand, then consumed synchronously.</summary>
    private sealed class Lookahead<T>(IAsyncEnumerator<T> source) : IAsyncDisposable
    {
        private readonly Queue<T> _buffer = new();
        private bool _done;
        private T _last = default!;

        public async Task FillAsync(Func<T, bool> within, CancellationToken ct)
        {
            while (!_done && (_buffer.Count == 0 || within(_last)))
            {
                ct.ThrowIfCancellationRequested();
                if (await source.MoveNextAsync().ConfigureAwait(false))
                {
                    _last = source.Current;
                    _buffer.Enqueue(_last);
                }
                else
                {
                    _done = true;
                }
            }
        }

        public bool TryPeek(out T item) => _buffer.TryPeek(out item!);

        public void Take() => _buffer.Dequeue();

        public ValueTask DisposeAsync() => source.DisposeAsync();
    }

    private static IEnumerable<(string Prefix, bool Purge)> Entries(SystemRecord rec)
    {
        if (rec.Verb == "erase")
        {
            yield return (Retention.RecordPrefix + "erase.", false);
        }
        else if (rec.Verb == "purge")
        {
            for (var i = 0; rec.Annotations.ContainsKey($"{Retention.RecordPrefix}purge.{i}.leaves"); i++)
            {
                yield return ($"{Retention.RecordPrefix}purge.{i}.", true);
            }
        }
    }

    private static Derived Derive(StoredRow row, string indexedKinds)
    {
        var d = default(Derived);
        if (row.Payload is not { } payload)
        {
            return d;
        }

        d.HashOk = MerkleHash.Leaf(payload).AsSpan().SequenceEqual(row.LeafHash);
        try
        {
            using var doc = JsonDocument.Parse(payload);
            var f = AuditEventReader.Extract(doc.RootElement, row.Index);
            d.Fields = f;
            d.ColumnMismatch = row.SameCanonical(f) ? null : Mismatch(f, row.Columns);
            d.Terms = indexedKinds.Length > 0 ? ChunkSeals.TermsOf(f) : null;
            if (f.Username == "skjold:audit" && f.Resource == "auditlog" && f.Verb is "purge" or "erase" or "rotate-key"
                && doc.RootElement.TryGetProperty("annotations"u8, out var ann) && ann.ValueKind == JsonValueKind.Object)
            {
                var map = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var p in ann.EnumerateObject())
                {
                    if (p.Value.ValueKind == JsonValueKind.String)
                    {
                        map[p.Name] = p.Value.GetString()!;
                    }
                }

                d.Record = new SystemRecord(row.Index, f.Verb!, map);
            }
        }
        catch (JsonException ex)
        {
            d.ParseError = ex.Message;
        }

        return d;
    }

    /// <summary>The first indexed column whose stored value differs from the sealed event's, or null.</summary>
    private static string? Mismatch(AuditRecord sealedFields, AuditRecord stored)
    {
        if (SqlAuditStore.Micros(sealedFields.Time) != SqlAuditStore.Micros(stored.Time))
        {
            return "time (ts)";
        }

        return sealedFields.AuditId != stored.AuditId ? "audit_id"
            : sealedFields.Stage != stored.Stage ? "stage"
            : sealedFields.Verb != stored.Verb ? "verb"
            : sealedFields.Username != stored.Username ? "username"
            : !sealedFields.Groups.SequenceEqual(stored.Groups) ? "groups"
            : sealedFields.SourceIp != stored.SourceIp ? "source_ip"
            : sealedFields.UserAgent != stored.UserAgent ? "user_agent"
            : sealedFields.Resource != stored.Resource ? "resource"
            : sealedFields.Subresource != stored.Subresource ? "subresource"
            : sealedFields.Namespace != stored.Namespace ? "namespace"
            : sealedFields.Name != stored.Name ? "name"
            : sealedFields.ApiGroup != stored.ApiGroup ? "api_group"
            : sealedFields.Code != stored.Code ? "code"
            : sealedFields.RequestUri != stored.RequestUri ? "request_uri"
            : null;
    }

    /// <summary>Finds the first pair of leaves whose recomputed parent differs from the stored level-1 node.</summary>
    private static async Task<long?> LocateAsync(IAuditVerificationSource store, long from, long to, CancellationToken ct)
    {
        var start = from - (from % 2);
        byte[]? left = null;
        await foreach (var leaf in store.ReadLeavesAsync(start, to - (to % 2), payloads: false, ct).ConfigureAwait(false))
        {
            if (leaf.Index % 2 == 0)
            {
                left = leaf.LeafHash;
                continue;
            }

            if (left is null)
            {
                continue;
            }

            var parent = MerkleHash.Node(left, leaf.LeafHash);
            var stored = await store.ReadAsync([(1, leaf.Index / 2)], ct).ConfigureAwait(false);
            if (stored.TryGetValue((1, leaf.Index / 2), out var s) && !s.AsSpan().SequenceEqual(parent))
            {
                return leaf.Index - 1;
            }
        }

        return null;
    }
}
