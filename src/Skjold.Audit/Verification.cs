using System.Text.Json;
using Skjold.Audit.Events;
using Skjold.Audit.Merkle;
using Skjold.Audit.Signing;
using Skjold.Audit.Storage;

namespace Skjold.Audit;

/// <summary>One thing verification found wrong, with the leaf it concerns when known.</summary>
public sealed record VerificationProblem(string Kind, long? LeafIndex, string Message);

/// <summary>The result of verifying a store or a bundle.</summary>
public sealed record VerificationReport(
    long Size,
    long LeavesChecked,
    long Purged,
    int TreeHeadsVerified,
    long UnsignedTail,
    IReadOnlyList<VerificationProblem> Problems)
{
    public bool Ok => Problems.Count == 0;

    /// <summary>How many problems there were in all (only the first 50 are listed).</summary>
    public long ProblemCount { get; init; }

    /// <summary>Leaves whose identifying fields an erasure record covers.</summary>
    public long Erased { get; init; }

    /// <summary>Things that are not tampering but limit what was proven (the key's origin, an unsigned tail within the sealing interval).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Key ids whose heads were accepted: the given key and keys it rotated to.</summary>
    public IReadOnlyList<string> TrustedKeys { get; init; } = [];
}

/// <summary>What verification expects of sealing and what the auditor pinned before.</summary>
public sealed record VerifyOptions
{
    /// <summary>More unsigned events than this after the last head is tampering (a writer signs every 10,000 events, batches are at most 8,192).</summary>
    public long MaxUnsigned { get; init; } = 10_000 + 8_192;

    /// <summary>Unsigned events after a head older than this: the writer would have sealed them (it signs after 10 s without events).</summary>
    public TimeSpan MaxUnsignedAge { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The clock verification runs by (a head's age is judged against it).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>A tree head the auditor kept (skjold audit checkpoint): the log must extend it.</summary>
    public SignedTreeHead? Checkpoint { get; init; }

    /// <summary>Further public keys the auditor trusts (for example the keys of a log rotated before the auditor's copy).</summary>
    public IReadOnlyList<TreeHeadVerifier> AlsoTrusted { get; init; } = [];
}

/// <summary>
/// Recomputes the whole log from the stored events and checks everything a query or a proof reads
/// against them: every payload against its leaf hash; every indexed column, term index entry and
/// chunk seal against the payload (naming the leaf and the column or term); the leaves'
/// continuity and nothing beyond the tree state; every stored tree node and tile; the tree at every
/// signed tree head against the signed root, every signature with the given public key (and keys
/// it rotated to in a sealed record), the chain of heads (a head deleted from the middle breaks it),
/// the sealed index chain each head signs, an unsigned tail beyond the sealing interval, a kept
/// checkpoint (rollback); and that every purged payload and every erased one is covered by a purge
/// or erasure record sealed in the log whose digest matches.
/// </summary>
public static class AuditVerifier
{
    private const int MaxReported = 50;
    private const int Batch = 4096;

    /// <summary>The re-derived view of one stored row (computed in parallel).</summary>
    private struct Derived
    {
        public bool HashOk;
        public AuditRecord? Fields;
        public string? ColumnMismatch;
        public SystemRecord? Record;
        public string? ParseError;
        public TermPostings.Term[]? Terms;
    }

    /// <summary>A purge, erasure or key rotation recorded by Skjold in the log itself.</summary>
    private sealed record SystemRecord(long Index, string Verb, IReadOnlyDictionary<string, string> Annotations);

    public static async Task<VerificationReport> VerifyStoreAsync(IAuditVerificationSource store, TreeHeadVerifier key, IProgress<long>? progress, CancellationToken ct, VerifyOptions? options = null)
    {
        options ??= new VerifyOptions();
        var problems = new List<VerificationProblem>();
        long problemCount = 0;
        var warnings = new List<string>();
        var problemLock = new Lock();
        void Add(string kind, long? leaf, string message)
        {
            lock (problemLock)
            {
                problemCount++;
                if (problems.Count < MaxReported)
                {
                    problems.Add(new VerificationProblem(kind, leaf, message));
                }
            }
        }

        var indexChecks = new List<Task>();

        var (size, stateRoot) = await store.StateAsync(ct).ConfigureAwait(false);
        var heads = await store.TreeHeadsAsync(ct).ConfigureAwait(false);
        var seals = (await store.SealsAsync(0, long.MaxValue, ct).ConfigureAwait(false)).ToDictionary(s => s.Chunk);
        var bits = store.SealBits;
        var chunkSize = 1L << bits;
        var lowestNode = store.LowestStoredNodeLevel;
        var indexedKinds = store.IndexedTermKinds;

        // Keys: the given one, and those it (or a key it trusts) rotated to in a sealed record.
        var trusted = new Dictionary<string, TreeHeadVerifier>(StringComparer.Ordinal) { [key.KeyId] = key };
        foreach (var also in options.AlsoTrusted)
        {
            trusted.TryAdd(also.KeyId, also);
        }
        var ownedVerifiers = new List<TreeHeadVerifier>();
        var pendingKeys = new List<(long Index, string KeyId, string Pem)>();

        DateTimeOffset? previousTime = null;
        for (var i = 0; i < heads.Count; i++)
        {
            var h = heads[i];
            if (previousTime is { } p && h.Timestamp < p)
            {
                Add("tree-head-order", null, $"tree head at size {h.Size} is dated before the previous one");
            }

            previousTime = h.Timestamp;
            if (h.Size > size)
            {
                Add("tree-head-beyond-log", null, $"tree head signs size {h.Size} but the log holds only {size} events: events were deleted from the end");
            }

            if (h.Extension is not null)
            {
                if (i == 0 && h.PreviousSize == 0 && h.Size > options.MaxUnsigned)
                {
                    Add("tree-head-missing", null, $"the first stored tree head signs {h.Size} events, more than a writer leaves unsigned ({options.MaxUnsigned}): the heads before it were deleted");
                }

                var expectedPrevious = i == 0 ? 0 : heads[i - 1].Size;
                if (h.PreviousSize != expectedPrevious || (i > 0 && !h.PreviousDigest.SequenceEqual(heads[i - 1].Digest())))
                {
                    Add("tree-head-missing", null, h.PreviousSize != expectedPrevious
                        ? $"tree head at size {h.Size} follows a head at size {h.PreviousSize}, which is not in the store: tree heads were deleted"
                        : $"tree head at size {h.Size} does not follow the stored head at size {expectedPrevious}: tree heads were deleted or replaced");
                }

                if (h.Index is { } index && index.Bits != bits)
                {
                    Add("index-seal", null, $"tree head at size {h.Size} seals chunks of 2^{index.Bits} leaves but the store uses 2^{bits}");
                }
            }
        }

        var frontier = new Frontier();
        var emitted = new List<(int, long, byte[])>();
        await using var nodes = new Lookahead<(int Level, long Index, byte[] Hash)>(store.ReadStoredNodesAsync(ct).GetAsyncEnumerator(ct));
        await using var tiles = new Lookahead<(long Tile, byte[] Hashes)>(store.ReadTilesAsync(ct).GetAsyncEnumerator(ct));
        var tileBuffer = new byte[16 * 32];

        var records = new List<SystemRecord>();
        var purgedLeaves = new List<long>();
        var mismatched = new HashSet<long>();
        var mismatchedColumns = new Dictionary<long, string>();
        DateTimeOffset? firstEventTime = null;
        var headIndex = 0;
        var verified = 0;
        long expected = 0, checkedLeaves = 0, beyond = 0;
        var broken = false;
        long firstRootMismatchSize = -1, lastGoodSize = 0;
        var lastVerifiedHeadSize = 0L;

        // The open chunk as re-derived from the payloads: its seal and its terms.
        ChunkSeals.Sealer? sealer = null;
        var chunkTerms = new Dictionary<TermPostings.Term, List<long>>();

        // Rows are read on one thread and re-derived (hash, parse, compare) on the others, a batch ahead
        // of the checks that must run in leaf order.
        var pipeline = System.Threading.Channels.Channel.CreateBounded<(List<StoredRow> Rows, Task<Derived[]> Derived)>(3);
        using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var reader = Task.Run(async () =>
        {
            try
            {
                var current = new List<StoredRow>(Batch);
                await foreach (var r in store.ReadRowsAsync(0, long.MaxValue, stopReading.Token).ConfigureAwait(false))
                {
                    current.Add(r);
                    if (current.Count == Batch)
                    {
                        var full = current;
                        await pipeline.Writer.WriteAsync((full, Task.Run(() => DeriveAll(full), stopReading.Token)), stopReading.Token).ConfigureAwait(false);
                        current = new List<StoredRow>(Batch);
                    }
                }

                if (current.Count > 0)
                {
                    var last = current;
                    await pipeline.Writer.WriteAsync((last, Task.Run(() => DeriveAll(last), stopReading.Token)), stopReading.Token).ConfigureAwait(false);
                }

                pipeline.Writer.Complete();
            }
            catch (Exception ex)
            {
                pipeline.Writer.Complete(ex);
            }
        }, CancellationToken.None);

        Derived[] DeriveAll(List<StoredRow> list)
        {
            var result = new Derived[list.Count];
            Parallel.For(0, list.Count, new ParallelOptions { CancellationToken = stopReading.Token }, i => result[i] = Derive(list[i], indexedKinds));
            return result;
        }

        await foreach (var (batch, deriving) in pipeline.Reader.ReadAllAsync(ct).ConfigureAwait(false))
        {
            var derived = await deriving.ConfigureAwait(false);

            // Stored nodes and tiles up to the end of this batch, read ahead so that the checks in leaf order need no I/O.
            var batchEnd = batch[^1].Index + 1;
            await nodes.FillAsync(n => ((n.Index + 1) << n.Level) <= batchEnd, ct).ConfigureAwait(false);
            await tiles.FillAsync(t => t.Tile <= batchEnd >> 4, ct).ConfigureAwait(false);
            for (var b = 0; b < batch.Count; b++)
            {
                var row = batch[b];
                var d = derived[b];
                var index = row.Index;
                if (index >= size)
                {
                    beyond++;
                    Add("beyond-state", index, $"leaf {index} is in the store but the tree state ends at {size}: a row was added outside Skjold");
                    continue;
                }

                if (index != expected)
                {
                    if (index > expected)
                    {
                        var missing = index - expected;
                        Add("missing", expected, missing == 1
                            ? $"leaf {expected} is missing: the event was deleted"
                            : $"leaves {expected} to {index - 1} are missing ({missing} events deleted)");
                    }

                    broken = true;
                    expected = index;
                }

                // The chunk this leaf is in: check the one it closes.
                if (sealer is null || index >> bits != sealer.Chunk)
                {
                    await CloseChunkAsync().ConfigureAwait(false);
                    sealer = new ChunkSeals.Sealer(bits, index >> bits, new byte[32]);
                    chunkTerms = [];
                }

                if (row.Payload is null)
                {
                    if (row.Purged)
                    {
                        purgedLeaves.Add(index);
                    }
                    else
                    {
                        Add("payload-missing", index, $"leaf {index}: the event's payload is gone but the row is not marked purged");
                    }
                }
                else if (d.ParseError is not null)
                {
                    Add("changed", index, $"leaf {index}: the stored event is not valid JSON ({d.ParseError}): it was changed");
                    mismatched.Add(index);
                }
                else
                {
                    if (row.Purged)
                    {
                        Add("purge-flag", index, $"leaf {index} is marked purged but still has its payload");
                    }

                    if (!d.HashOk)
                    {
                        mismatched.Add(index); // changed, unless an erasure record covers it (checked below)
                    }

                    if (d.ColumnMismatch is { } column)
                    {
                        if (d.HashOk)
                        {
                            Add("column", index, $"leaf {index}: the stored {column} does not match the sealed event: the row was edited (queries would read the forged value)");
                        }
                        else
                        {
                            mismatchedColumns[index] = column; // reported if an erasure covers the leaf; otherwise the leaf is reported as changed
                        }
                    }

                    firstEventTime ??= d.Fields?.Time;

                    if (d.Record is { } rec && d.HashOk)
                    {
                        records.Add(rec);
                        if (rec.Verb == "rotate-key" && rec.Annotations.TryGetValue(Retention.RecordPrefix + "rotate.new-key", out var pem)
                            && rec.Annotations.TryGetValue(Retention.RecordPrefix + "rotate.new-key-id", out var newId))
                        {
                            pendingKeys.Add((index, newId, pem));
                        }
                    }

                    if (d.Fields is { } f)
                    {
                        if (d.HashOk && indexedKinds.Length > 0)
                        {
                            foreach (var t in d.Terms!)
                            {
                                if (indexedKinds.Contains(t.Kind, StringComparison.Ordinal))
                                {
                                    ref var l = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(chunkTerms, t, out _);
                                    (l ??= []).Add(index);
                                }
                            }
                        }
                    }
                }

                emitted.Clear();
                if (!broken)
                {
                    frontier.Append(row.LeafHash, emitted);
                    CheckNodes();
                    row.LeafHash.CopyTo(tileBuffer, (int)(index & 15) * 32);
                    if ((index & 15) == 15)
                    {
                        CheckTile(index >> 4);
                    }
                }

                expected++;
                checkedLeaves++;
                if (checkedLeaves % 100_000 == 0)
                {
                    progress?.Report(checkedLeaves);
                }

                while (!broken && headIndex < heads.Count && heads[headIndex].Size == frontier.Size)
                {
                    var h = heads[headIndex++];
                    if (options.Checkpoint is { } cp0 && cp0.Size == h.Size && !cp0.Root.AsSpan().SequenceEqual(h.Root))
                    {
                        Add("checkpoint", null, $"the store's head at size {h.Size} differs from the checkpoint of that size: the log was rewritten");
                    }

                    if (!frontier.Root().AsSpan().SequenceEqual(h.Root))
                    {
                        Add("root", null, $"the tree of the first {h.Size} events does not match the tree head signed at {h.Timestamp:u}");
                        if (firstRootMismatchSize < 0)
                        {
                            firstRootMismatchSize = h.Size;
                        }
                    }
                    else if (!trusted.TryGetValue(h.KeyId, out var verifier))
                    {
                        Add("key", null, $"tree head at size {h.Size} was signed by key {h.KeyId}, which is neither the given public key ({key.KeyId}) nor one it rotated to in a sealed record");
                    }
                    else if (!verifier.Verify(h))
                    {
                        Add("signature", null, $"the signature of the tree head at size {h.Size} is not valid");
                    }
                    else
                    {
                        verified++;
                        lastVerifiedHeadSize = h.Size;
                        if (firstRootMismatchSize < 0)
                        {
                            lastGoodSize = h.Size;
                        }

                        // A rotation sealed under a trusted head introduces its new key for later heads.
                        foreach (var (at, newId, pem) in pendingKeys.Where(k => k.Index < h.Size).ToList())
                        {
                            var v = new TreeHeadVerifier(pem);
                            if (v.KeyId == newId && trusted.TryAdd(newId, v))
                            {
                                ownedVerifiers.Add(v);
                            }
                            else
                            {
                                v.Dispose();
                            }

                            pendingKeys.RemoveAll(k => k.Index == at);
                        }
                    }
                }

                if (options.Checkpoint is { } cp && !broken && frontier.Size == cp.Size && !frontier.Root().AsSpan().SequenceEqual(cp.Root))
                {
                    Add("checkpoint", null, $"the first {cp.Size} events do not match the checkpoint kept at {cp.Timestamp:u}: the log was rewritten since");
                }
            }
        }

        await reader.ConfigureAwait(false);
        await CloseChunkAsync().ConfigureAwait(false);
        await Task.WhenAll(indexChecks).ConfigureAwait(false);
        progress?.Report(checkedLeaves);
        if (expected < size)
        {
            Add("missing", expected, $"leaves {expected} to {size - 1} are missing ({size - expected} events deleted from the end)");
        }

        if (!broken && expected == size && !frontier.Root().AsSpan().SequenceEqual(stateRoot))
        {
            Add("state", null, "the stored tree state does not match the events");
        }

        await nodes.FillAsync(_ => true, ct).ConfigureAwait(false);
        while (!broken && nodes.TryPeek(out var left))
        {
            var (l, i, _) = left;
            Add("node", i << l, $"tree node ({l}, {i}) is not part of the tree: the nodes table was edited");
            nodes.Take();
        }

        if (firstRootMismatchSize >= 0)
        {
            var located = await LocateAsync(store, lastGoodSize, firstRootMismatchSize, ct).ConfigureAwait(false);
            Add("reordered", located, located is { } l
                ? $"leaves {l} and {l + 1} differ from the stored tree: events were reordered or their hashes rewritten"
                : $"the change lies between leaf {lastGoodSize} and leaf {firstRootMismatchSize - 1}");
        }

        // The sealed query index: every stored seal consistent, chained, and the chain each head signs.
        var chain = new byte[32];
        var sealedChunks = size >> bits;
        var chainAt = new Dictionary<long, byte[]> { [0] = chain };
        for (long c = 0; c < sealedChunks; c++)
        {
            if (!seals.TryGetValue(c, out var seal))
            {
                Add("index-seal", c << bits, $"the seal of chunk {c} (leaves {c << bits} to {((c + 1) << bits) - 1}) is missing: queries could not confirm their answers there");
                break;
            }

            if (!seal.IsConsistent)
            {
                Add("index-seal", c << bits, $"the seal of chunk {c} does not match its own contents: it was edited");
            }

            chain = ChunkSeals.ChainOf(chain, seal.Digest);
            if (!chain.AsSpan().SequenceEqual(seal.Chain))
            {
                Add("index-seal", c << bits, $"the chain value of chunk {c}'s seal is wrong: seals were edited, deleted or reordered");
                chain = seal.Chain;
            }

            chainAt[c + 1] = chain;
        }

        foreach (var h in heads)
        {
            if (h.Index is { } index && index.Bits == bits && chainAt.TryGetValue(index.Chunks, out var expectedChain) && !expectedChain.AsSpan().SequenceEqual(index.Chain))
            {
                Add("index-seal", index.Chunks << bits, $"the chunk seals up to chunk {index.Chunks} differ from what the tree head at size {h.Size} signed: the query index was rewritten");
            }
        }

        // The latest head's seal of the open chunk (the one queries rely on).
        if (heads.Count > 0 && heads[^1].Index is { } last && last.Bits == bits && heads[^1].Size > last.Chunks << bits)
        {
            var open = await store.PartialSealAsync(heads[^1].Size, ct).ConfigureAwait(false);
            if (open is null || !open.IsConsistent || !open.Digest.AsSpan().SequenceEqual(last.Partial))
            {
                Add("index-seal", last.Chunks << bits, $"the seal of leaves {last.Chunks << bits} to {heads[^1].Size - 1} differs from what the latest tree head signed: the query index was rewritten");
            }
        }

        var erased = await CheckRedactionsAsync().ConfigureAwait(false);

        // Tree heads cannot be dropped or rolled back unnoticed.
        var lastHead = heads.Count > 0 ? heads[^1] : null;
        var unsigned = Math.Max(0, size - (lastHead?.Size ?? 0));
        var now = options.Time.GetUtcNow();
        if (size > 0 && lastHead is null && (unsigned > options.MaxUnsigned || firstEventTime is not { } first || now - first > options.MaxUnsignedAge))
        {
            Add("unsigned", 0, $"no signed tree head covers any of the {size} events: the tree heads were deleted, or the log was never sealed");
        }
        else if (size > 0 && lastHead is null)
        {
            warnings.Add($"no tree head is signed yet: the {size} events are within the sealing interval and not yet proven");
        }
        else if (unsigned > options.MaxUnsigned)
        {
            Add("unsigned", lastHead!.Size, $"{unsigned} events after the last signed tree head (size {lastHead.Size}) are more than a writer leaves unsigned ({options.MaxUnsigned}): tree heads were deleted, or events were added outside Skjold");
        }
        else if (unsigned > 0 && now - lastHead!.Timestamp > options.MaxUnsignedAge)
        {
            Add("unsigned", lastHead.Size, $"{unsigned} events after the last signed tree head (size {lastHead.Size}, {lastHead.Timestamp:u}) are unsigned for longer than the sealing interval allows: tree heads were deleted, events were added outside Skjold, or the receiver stopped before sealing them (start it and verify again)");
        }
        else if (unsigned > 0)
        {
            warnings.Add($"{unsigned} events after the last signed tree head are within the sealing interval and not yet signed: they are not proven");
        }

        if (options.Checkpoint is { } checkpoint)
        {
            await CheckCheckpointAsync(checkpoint).ConfigureAwait(false);
        }

        foreach (var v in ownedVerifiers)
        {
            v.Dispose();
        }

        return new VerificationReport(size, checkedLeaves, purgedLeaves.Count, verified, unsigned, problems)
        {
            ProblemCount = problemCount,
            Erased = erased,
            Warnings = warnings,
            TrustedKeys = [.. trusted.Keys],
        };

        void CheckNodes()
        {
            foreach (var node in emitted)
            {
                if (node.Item1 == 0)
                {
                    continue;
                }

                // Stored nodes come in the order appends complete them.
                var at = Position(node);
                while (nodes.TryPeek(out var stored) && Position(stored) < at)
                {
                    Add("node", stored.Index << stored.Level, $"tree node ({stored.Level}, {stored.Index}) is not part of the tree: the nodes table was edited");
                    nodes.Take();
                }

                var (level, idx, hash) = node;
                if (!nodes.TryPeek(out var next) || Position(next) != at)
                {
                    if (level >= lowestNode)
                    {
                        Add("node", idx << level, $"tree node ({level}, {idx}) over leaves {idx << level} to {((idx + 1) << level) - 1} is missing: proofs through it fail");
                    }

                    continue;
                }

                if (!next.Hash.AsSpan().SequenceEqual(hash))
                {
                    Add("node", idx << level, $"tree node ({level}, {idx}) over leaves {idx << level} to {((idx + 1) << level) - 1} does not match the leaves: the nodes table was edited (proofs from it would fail)");
                }

                nodes.Take();
            }
        }

        void CheckTile(long tile)
        {
            while (tiles.TryPeek(out var t) && t.Tile < tile)
            {
                tiles.Take();
            }

            if (tiles.TryPeek(out var current) && current.Tile == tile)
            {
                if (!current.Hashes.AsSpan().SequenceEqual(tileBuffer))
                {
                    Add("tile", tile * 16, $"the tile of leaves {tile * 16} to {(tile * 16) + 15} does not match their leaf hashes: the tiles table was edited (proofs from it would fail)");
                }

                tiles.Take();
            }
        }

        async Task CloseChunkAsync()
        {
            if (sealer is null)
            {
                return;
            }

            var closing = sealer;
            sealer = null;
            var chunk = closing.Chunk;
            // A seal's contents are bound by the chain every head signs, and the columns it was made from
            // are checked against the payloads row by row: recomputing it would only re-check the writer.
            closing.Dispose();
            if ((chunk + 1) << bits > size)
            {
                return; // the open chunk has no term index rows yet
            }

            // The store's term index must hold every (term, leaf) the payloads give: checked beside the
            // leaf-order checks, one task per chunk.
            if (indexedKinds.Length > 0)
            {
                var terms = chunkTerms;
                chunkTerms = [];
                indexChecks.Add(Task.Run(() => CheckIndexAsync(chunk, terms), ct));
            }
        }

        async Task CheckIndexAsync(long chunk, Dictionary<TermPostings.Term, List<long>> terms)
        {
            // Postings are compared as stored (encoded); only a row that differs is decoded (an erasure
            // leaves extra entries behind, which are harmless).
            if (await store.PostingsOfChunkAsync(chunk << bits, (chunk + 1) << bits, ct).ConfigureAwait(false) is { } postings)
            {
                var offsets = new List<int>();
                foreach (var (key, leaves) in terms)
                {
                    var term = key.ToString();
                    offsets.Clear();
                    offsets.AddRange(leaves.Select(l => (int)(l - (chunk << bits))));
                    if (postings.TryGetValue(term, out var data) && data.AsSpan().SequenceEqual(store.EncodePostings(offsets)))
                    {
                        continue;
                    }

                    List<long>? have = null;
                    if (data is not null)
                    {
                        have = [];
                        TermPostings.Decode(data, chunk << bits, 1 << bits, have);
                    }

                    if (MissingFrom(leaves, have) is { } leaf)
                    {
                        Add("index", leaf, $"leaf {leaf} is missing from the term index under '{term}': a query for it would silently omit the event");
                    }
                }
            }
            else if (await store.IndexEntriesAsync(chunk << bits, (chunk + 1) << bits, ct).ConfigureAwait(false) is { } entries)
            {
                foreach (var (key, leaves) in terms)
                {
                    var term = key.ToString();
                    entries.TryGetValue(term, out var have);
                    if (MissingFrom(leaves, have) is { } leaf)
                    {
                        Add("index", leaf, $"leaf {leaf} is missing from the term index under '{term}': a query for it would silently omit the event");
                    }
                }
            }
        }

        async Task<long> CheckRedactionsAsync()
        {
            // Purge and erasure records count only when a verified tree head covers them.
            var usable = records.Where(r => r.Index < lastVerifiedHeadSize).ToList();
            var purgeRanges = new List<(long From, long To, long Record)>();
            var eraseRanges = new List<(long From, long To, long Record)>();
            long erasedCount = 0;
            foreach (var rec in usable)
            {
                foreach (var (prefix, isPurge) in Entries(rec))
                {
                    try
                    {
                        var ranges = RedactionOutcome.ParseRanges(rec.Annotations.GetValueOrDefault(prefix + "leaves") ?? string.Empty);
                        var digest = new RedactionDigest();
                        foreach (var (from, to) in ranges)
                        {
                            if (to >= rec.Index)
                            {
                                Add("redaction-record", rec.Index, $"the {(isPurge ? "purge" : "erasure")} record at leaf {rec.Index} names leaves after itself");
                                break;
                            }

                            await foreach (var r in store.ReadRowsAsync(from, to + 1, ct).ConfigureAwait(false))
                            {
                                if (isPurge)
                                {
                                    digest.AddKept(r.Columns);
                                }
                                else if (r.Payload is { } p)
                                {
                                    digest.AddPayload(r.Index, p);
                                }
                            }

                            (isPurge ? purgeRanges : eraseRanges).Add((from, to, rec.Index));
                        }

                        var outcome = digest.Finish();
                        if (outcome.Digest != rec.Annotations.GetValueOrDefault(prefix + "digest"))
                        {
                            Add("redaction-record", rec.Index, isPurge
                                ? $"the leaves the purge record at leaf {rec.Index} covers no longer match what it sealed: purged rows were edited"
                                : $"the payloads the erasure record at leaf {rec.Index} covers no longer match what it sealed: erased events were edited");
                        }
                    }
                    catch (FormatException ex)
                    {
                        Add("redaction-record", rec.Index, $"the record at leaf {rec.Index} is malformed: {ex.Message}");
                    }
                }
            }

            static bool Covered(List<(long From, long To, long Record)> ranges, long leaf) => ranges.Any(r => r.From <= leaf && leaf <= r.To);
            foreach (var leaf in purgedLeaves)
            {
                if (!Covered(purgeRanges, leaf))
                {
                    Add("purge-unrecorded", leaf, $"leaf {leaf}: the payload is gone and no sealed purge record covers it: the event was deleted outside a retention purge");
                }
            }

            foreach (var leaf in mismatched.Order())
            {
                if (Covered(eraseRanges, leaf))
                {
                    erasedCount++;
                    if (mismatchedColumns.TryGetValue(leaf, out var column))
                    {
                        Add("column", leaf, $"leaf {leaf}: the stored {column} does not match the erased event: the row was edited (queries would read the forged value)");
                    }
                }
                else
                {
                    Add("changed", leaf, $"leaf {leaf}: the stored event does not match its leaf hash: the event was changed");
                }
            }

            return erasedCount;
        }

        async Task CheckCheckpointAsync(SignedTreeHead cp)
        {
            if (!trusted.TryGetValue(cp.KeyId, out var v) || !v.Verify(cp))
            {
                Add("checkpoint", null, $"the checkpoint (size {cp.Size}) is not signed by the given public key");
                return;
            }

            if (cp.Size > size || (lastHead is not null && cp.Size > lastHead.Size))
            {
                Add("rollback", cp.Size, $"the checkpoint kept at {cp.Timestamp:u} signs {cp.Size} events but the store's log is smaller ({size} events, last head {lastHead?.Size ?? 0}): the log was rolled back");
                return;
            }

            if (lastHead is null || broken)
            {
                return;
            }

            var proof = await MerkleTree.ConsistencyProofAsync(cp.Size, lastHead.Size, store, ct).ConfigureAwait(false);
            if (!MerkleTree.VerifyConsistency(cp.Size, lastHead.Size, cp.Root, lastHead.Root, proof))
            {
                Add("checkpoint", null, $"the latest head (size {lastHead.Size}) does not extend the checkpoint (size {cp.Size}): the log was rewritten since");
            }
        }
    }

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
