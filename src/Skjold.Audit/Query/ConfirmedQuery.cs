using Skjold.Audit.Events;
using Skjold.Audit.Merkle;
using Skjold.Audit.Signing;
using Skjold.Audit.Storage;

namespace Skjold.Audit.Query;

/// <summary>A query answer whose every row was re-derived from its sealed payload and proven in the signed tree.</summary>
public sealed record ConfirmedAnswer(IReadOnlyList<(AuditRecord Record, byte[]? Payload)> Rows, long SignedSize, long UnsignedRows, string Method)
{
    /// <summary>Whether some returned rows are after the last signed tree head (checked against their payloads, not yet provable).</summary>
    public bool HasUnsigned => UnsignedRows > 0;
}

/// <summary>The store's rows disagree with what was sealed: the answer would be forged or incomplete.</summary>
public sealed class AuditQueryTamperedException(long? leafIndex, string message) : InvalidOperationException(message)
{
    public long? LeafIndex { get; } = leafIndex;
}

/// <summary>
/// Answers audit queries so that a tampered index cannot steer them. The latest tree head signed by
/// the given key fixes the sealed chunks and their chain; the query then searches the chunks its
/// time range overlaps, in order:
/// with a term (user, namespace, source IP, resource, API group, group, verb, subresource or code)
/// it fetches that term's rows per chunk by the store's index and requires their number to be the
/// one the chunk's sealed manifest gives (fewer only by leaves a sealed purge or erasure record
/// covers); without one it reads the chunk's rows and requires their columns to hash to the sealed
/// column digest. Every row is re-derived from its payload (the payload must match its leaf hash,
/// and the columns the payload) and every returned row is proven by an inclusion proof against the
/// signed root; filters apply to the re-derived fields. Events after the last sealed chunk are
/// searched by the store's own query and each row checked against its payload; the answer says how
/// many such rows it holds. Any disagreement throws <see cref="AuditQueryTamperedException"/> naming
/// the leaf.
/// </summary>
public sealed partial class ConfirmedQuery(IAuditVerificationSource store, TreeHeadVerifier key)
{
    public async Task<ConfirmedAnswer> RunAsync(AuditQuery q, bool payloads, CancellationToken ct)
    {
        var limit = Math.Max(1, q.Limit);
        var heads = await store.TreeHeadsAsync(ct).ConfigureAwait(false);
        var head = heads.Count > 0 ? heads[^1] : null;
        if (head is not null && (head.KeyId != key.KeyId || !key.Verify(head)))
        {
            throw new AuditQueryTamperedException(null, $"the latest tree head (size {head.Size}) is not signed by the key {key.KeyId}: the answer cannot be trusted; run 'skjold audit verify'");
        }

        var bits = store.SealBits;
        var index = head?.Index is { } ix && ix.Bits == bits ? ix : IndexState.Empty(bits);
        var sealedLeaves = index.Chunks << bits;
        var redacted = await RedactedRangesAsync(head, ct).ConfigureAwait(false);

        // The seal chain up to the signed chunk count: any edited, deleted or reordered seal breaks it.
        var chain = new byte[32];
        var light = await store.SealChainAsync(0, index.Chunks, ct).ConfigureAwait(false);
        light.RemoveAll(l => l.Chunk >= index.Chunks);
        if (light.Count != index.Chunks)
        {
            throw new AuditQueryTamperedException(light.Count << bits, $"the seal of chunk {light.Count} is missing: the answer cannot be confirmed; run 'skjold audit verify'");
        }

        foreach (var s in light)
        {
            chain = ChunkSeals.ChainOf(chain, s.Digest);
        }

        if (!chain.AsSpan().SequenceEqual(index.Chain))
        {
            throw new AuditQueryTamperedException(null, "the chunk seals differ from what the latest tree head signed: the query index was rewritten; run 'skjold audit verify'");
        }

        // The open chunk's leaves up to the head: sealed by the head too.
        var signedSize = head?.Size ?? 0;
        ChunkSeals.Seal? partial = null;
        if (head is not null && signedSize > sealedLeaves)
        {
            partial = await store.PartialSealAsync(signedSize, ct).ConfigureAwait(false);
            if (partial is null || !partial.IsConsistent || !partial.Digest.AsSpan().SequenceEqual(index.Partial) || partial.Chunk != index.Chunks)
            {
                throw new AuditQueryTamperedException(sealedLeaves, $"the seal of leaves {sealedLeaves} to {signedSize - 1} differs from what the latest tree head signed: the query index was rewritten; run 'skjold audit verify'");
            }

            light.Add((partial.Chunk, partial.MinTs, partial.MaxTs, partial.Digest, []));
        }

        var since = q.Since is { } s0 ? SqlAuditStore.Micros(s0) : long.MinValue;
        var until = q.Until is { } u0 ? SqlAuditStore.Micros(u0) : long.MaxValue;
        var window = light.Where(s => s.MaxTs >= since && s.MinTs < until).ToList();
        window.Sort((x, y) => q.Descending ? (y.MaxTs, y.Chunk).CompareTo((x.MaxTs, x.Chunk)) : (x.MinTs, x.Chunk).CompareTo((y.MinTs, y.Chunk)));
        // Manifests are read as the search reaches them (64 chunks at a time), not all up front.
        var seals = new Dictionary<long, ChunkSeals.Seal>();
        if (partial is not null)
        {
            seals[partial.Chunk] = partial;
        }

        // The end of a chunk's sealed leaves (the open chunk's end at the head's size).
        long End(long chunk) => Math.Min((chunk + 1) << bits, chunk == index.Chunks ? signedSize : long.MaxValue);

        async Task PrefetchAsync(int from, int count)
        {
            var wanted = window.Skip(from).Take(count).Select(w => w.Chunk).Where(c => !seals.ContainsKey(c)).ToList();
            if (wanted.Count == 0)
            {
                return;
            }

            foreach (var seal in await store.SealsAsync(wanted.Min(), wanted.Max() + 1, ct).ConfigureAwait(false))
            {
                seals.TryAdd(seal.Chunk, seal);
            }
        }

        Comparison<(AuditRecord Record, byte[]? Payload)> order = q.Descending
            ? (x, y) => (y.Record.Time, y.Record.Index).CompareTo((x.Record.Time, x.Record.Index))
            : (x, y) => (x.Record.Time, x.Record.Index).CompareTo((y.Record.Time, y.Record.Index));
        var found = new List<(AuditRecord Record, byte[]? Payload)>();
        var counted = new List<(long Index, byte[] Payload)>(); // rows a count relied on: each must be the tree's
        var groups = Groups(q);
        string method;
        if (groups.Count > 0)
        {
            // The rarest group of terms over the window bounds the rows to fetch; chunks are fetched
            // a few thousand expected rows at a time, and each chunk's count checked on its own.
            // The rarest group, judged on up to 32 chunks spread over the window.
            var sample = window.Count <= 32 ? window.Select((_, k) => k).ToList() : [.. Enumerable.Range(0, 32).Select(k => k * window.Count / 32)];
            foreach (var k in sample)
            {
                await PrefetchAsync(k, 1).ConfigureAwait(false);
            }

            var group = groups.MinBy(g => sample.Sum(k => (long)g.Sum(t => Seal(window[k].Chunk).Count(t))))!;
            method = "sealed chunks by " + string.Join("|", group);
            var field = GroupQuery(group);
            var i = 0;
            while (i < window.Count)
            {
                ct.ThrowIfCancellationRequested();
                await PrefetchAsync(i, 64).ConfigureAwait(false);
                var batch = new List<(long Chunk, int Expected, long Slack)>();
                long expectedRows = 0;
                var last = i;
                for (; last < window.Count && (batch.Count == 0 || expectedRows < 2048) && batch.Count < 64; last++)
                {
                    var chunk = window[last].Chunk;
                    var expected = group.Sum(t => Seal(chunk).Count(t));
                    var slack = CountIn(redacted, chunk << bits, End(chunk));
                    batch.Add((chunk, expected, slack));
                    expectedRows += expected;
                }

                var fetch = batch.Where(b => b.Expected > 0 || b.Slack > 0).ToList();
                if (fetch.Count > 0)
                {
                    var from = fetch.Min(b => b.Chunk) << bits;
                    var to = End(fetch.Max(b => b.Chunk));
                    var rows = await FetchAsync(field with { FromIndex = from, ToIndex = to, Limit = int.MaxValue }, ct).ConfigureAwait(false);
                    var carrying = fetch.ToDictionary(b => b.Chunk, _ => 0);
                    foreach (var (record, payload) in rows)
                    {
                        var chunk = record.Index >> bits;
                        if (!carrying.ContainsKey(chunk) || record.Index >= End(chunk))
                        {
                            continue; // a chunk outside the window, or after the signed size
                        }

                        var derived = Confirm(record, payload, redacted);
                        if (derived is not null && Carries(derived, group))
                        {
                            carrying[chunk]++;
                            counted.Add((record.Index, payload!));
                        }

                        if (derived is not null && Matches(q, derived))
                        {
                            found.Add((derived, payload));
                        }
                    }

                    foreach (var (chunk, expected, slack) in fetch)
                    {
                        if (carrying[chunk] > expected || carrying[chunk] + slack < expected)
                        {
                            throw new AuditQueryTamperedException(chunk << bits,
                                $"the index holds {carrying[chunk]} events with {string.Join("|", group)} in leaves {chunk << bits} to {End(chunk) - 1}, but {expected} were sealed there: rows or index entries were edited, and the answer would be incomplete; run 'skjold audit verify'");
                        }
                    }
                }

                i = last;
                if (Full(i - 1))
                {
                    break;
                }
            }
        }
        else
        {
            method = "sealed chunks by column digest";
            for (var i = 0; i < window.Count; i++)
            {
                ct.ThrowIfCancellationRequested();
                await PrefetchAsync(i, 16).ConfigureAwait(false);
                var chunk = window[i].Chunk;
                var rows = await FetchAsync(new AuditQuery { FromIndex = chunk << bits, ToIndex = End(chunk), Limit = (int)Math.Min(int.MaxValue, (1L << bits) + 1) }, ct, payloads).ConfigureAwait(false);
                rows.Sort((x, y) => x.Record.Index.CompareTo(y.Record.Index));
                if (!ColumnsMatch(chunk, rows, Seal(chunk)))
                {
                    if (End(chunk) == (chunk + 1) << bits)
                    {
                        // Purged or erased rows change columns legitimately: prove the chunk's leaves in the signed tree instead.
                        await ProveChunkAsync(chunk, bits, head!, redacted, ct).ConfigureAwait(false);
                    }
                    else
                    {
                        // The open chunk: each row against its payload, and each proven below.
                        var expectedIndex = chunk << bits;
                        foreach (var (record, payload) in await FetchAsync(new AuditQuery { FromIndex = chunk << bits, ToIndex = End(chunk), Limit = int.MaxValue }, ct).ConfigureAwait(false))
                        {
                            if (record.Index != expectedIndex++)
                            {
                                throw new AuditQueryTamperedException(expectedIndex - 1, $"leaf {expectedIndex - 1} is missing: the answer would be incomplete; run 'skjold audit verify'");
                            }

                            if (Confirm(record, payload, redacted) is not null)
                            {
                                counted.Add((record.Index, payload!));
                            }
                        }

                        if (expectedIndex != End(chunk))
                        {
                            throw new AuditQueryTamperedException(expectedIndex, $"leaf {expectedIndex} is missing: the answer would be incomplete; run 'skjold audit verify'");
                        }
                    }
                }

                foreach (var (record, payload) in rows)
                {
                    var derived = payload is null ? record : Derive(record.Index, payload) ?? record;
                    if (Matches(q, derived))
                    {
                        found.Add((derived, payload));
                    }
                }

                if (Full(i))
                {
                    break;
                }
            }
        }

        // After the sealed chunks: the store's own answer, each row checked against its payload.
        long unsigned = 0;
        var tail = await FetchAsync(q with { FromIndex = Math.Max(q.FromIndex ?? 0, Math.Max(sealedLeaves, signedSize)), Limit = limit }, ct).ConfigureAwait(false);
        foreach (var (record, payload) in tail)
        {
            var derived = Confirm(record, payload, redacted);
            if (derived is not null && Matches(q, derived))
            {
                found.Add((derived, payload));
            }
        }

        found.Sort(order);
        if (found.Count > limit)
        {
            found.RemoveRange(limit, found.Count - limit);
        }

        // Every returned row, and every row a count relied on, is the event the signed tree holds.
        var signedRows = found.Where(f => head is not null && f.Record.Index < head.Size).ToList();
        unsigned = found.Count - signedRows.Count;
        var prove = signedRows.Select(f => (Index: f.Record.Index, Payload: f.Payload)).Concat(counted.Select(c => (Index: c.Index, Payload: (byte[]?)c.Payload)))
            .DistinctBy(x => x.Index).ToList();
        foreach (var part in prove.Chunk(512))
        {
            IReadOnlyList<IReadOnlyList<byte[]>> proofs;
            try
            {
                proofs = await MerkleTree.InclusionProofsAsync([.. part.Select(p => p.Index)], head!.Size, store, ct).ConfigureAwait(false);
            }
            catch (InvalidOperationException ex)
            {
                throw new AuditQueryTamperedException(part[0].Index, $"the rows cannot be proven in the signed tree ({ex.Message}): leaves or tree nodes were deleted; run 'skjold audit verify'");
            }

            var leaves = await store.ReadAsync([.. part.Select(p => (0, p.Index))], ct).ConfigureAwait(false);
            for (var k = 0; k < part.Length; k++)
            {
                var idx = part[k].Index;
                var leaf = leaves.GetValueOrDefault((0, idx));
                if (leaf is null || (part[k].Payload is { } p && !Covered(redacted, idx) && !MerkleHash.Leaf(p).AsSpan().SequenceEqual(leaf))
                    || !MerkleTree.VerifyInclusion(idx, head.Size, leaf, proofs[k], head.Root))
                {
                    throw new AuditQueryTamperedException(idx, $"leaf {idx} is not the event the signed tree holds at that place: the answer would be forged; run 'skjold audit verify'");
                }
            }
        }

        if (!payloads)
        {
            found = [.. found.Select(f => (f.Record, (byte[]?)null))];
        }

        return new ConfirmedAnswer(found, head?.Size ?? 0, unsigned, method);

        ChunkSeals.Seal Seal(long chunk) =>
            seals.TryGetValue(chunk, out var s) && s.IsConsistent
                ? s
                : throw new AuditQueryTamperedException(chunk << bits, $"the seal of chunk {chunk} does not match its own contents: it was edited; run 'skjold audit verify'");

        bool Full(int i)
        {
            if (found.Count < limit || i + 1 >= window.Count)
            {
                return false;
            }

            found.Sort(order);
            found.RemoveRange(limit, found.Count - limit);
            var last = SqlAuditStore.Micros(found[^1].Record.Time);
            var next = window[i + 1];
            return q.Descending ? next.MaxTs < last : next.MinTs > last;
        }
    }
}
