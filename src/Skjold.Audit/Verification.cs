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
}

/// <summary>
/// Recomputes the whole log from the stored events: every payload against its leaf hash, the
/// leaves' continuity, the tree at every signed tree head against the signed root, and every
/// signature with the public key alone. Changing, deleting or reordering an event is reported with
/// the leaf index (reordering that also rewrote leaf hashes is located by comparing the recomputed
/// first level of the tree with the stored one).
/// </summary>
public static class AuditVerifier
{
    private const int MaxReported = 50;

    public static async Task<VerificationReport> VerifyStoreAsync(IAuditStore store, TreeHeadVerifier key, IProgress<long>? progress, CancellationToken ct)
    {
        var problems = new List<VerificationProblem>();
        void Add(string kind, long? leaf, string message)
        {
            if (problems.Count < MaxReported)
            {
                problems.Add(new VerificationProblem(kind, leaf, message));
            }
        }

        var (size, stateRoot) = await store.StateAsync(ct).ConfigureAwait(false);
        var heads = await store.TreeHeadsAsync(ct).ConfigureAwait(false);
        var headIndex = 0;
        var verified = 0;
        DateTimeOffset? previousTime = null;
        foreach (var h in heads)
        {
            if (h.KeyId != key.KeyId)
            {
                Add("key", null, $"tree head at size {h.Size} was signed by key {h.KeyId}, not by the given public key {key.KeyId}");
            }

            if (previousTime is { } p && h.Timestamp < p)
            {
                Add("tree-head-order", null, $"tree head at size {h.Size} is dated before the previous one");
            }

            previousTime = h.Timestamp;
            if (h.Size > size)
            {
                Add("tree-head-beyond-log", null, $"tree head signs size {h.Size} but the log holds only {size} events: events were deleted from the end");
            }
        }

        var frontier = new Frontier();
        var scratch = new List<(int, long, byte[])>();
        long expected = 0, purged = 0, checkedLeaves = 0;
        var broken = false;
        long firstRootMismatchSize = -1, lastGoodSize = 0;
        await foreach (var leaf in store.ReadLeavesAsync(0, long.MaxValue, payloads: true, ct).ConfigureAwait(false))
        {
            if (leaf.Index != expected)
            {
                if (leaf.Index > expected)
                {
                    var missing = leaf.Index - expected;
                    Add("missing", expected, missing == 1
                        ? $"leaf {expected} is missing: the event was deleted"
                        : $"leaves {expected} to {leaf.Index - 1} are missing ({missing} events deleted)");
                }

                broken = true;
                expected = leaf.Index;
            }

            if (leaf.Payload is { } payload)
            {
                if (!MerkleHash.Leaf(payload).AsSpan().SequenceEqual(leaf.LeafHash))
                {
                    Add("changed", leaf.Index, $"leaf {leaf.Index}: the stored event does not match its leaf hash: the event was changed");
                }
            }
            else
            {
                purged++;
            }

            scratch.Clear();
            if (!broken)
            {
                frontier.Append(leaf.LeafHash, scratch);
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
                if (!frontier.Root().AsSpan().SequenceEqual(h.Root))
                {
                    Add("root", null, $"the tree of the first {h.Size} events does not match the tree head signed at {h.Timestamp:u}");
                    if (firstRootMismatchSize < 0)
                    {
                        firstRootMismatchSize = h.Size;
                    }
                }
                else if (!key.Verify(h))
                {
                    Add("signature", null, $"the signature of the tree head at size {h.Size} is not valid");
                }
                else
                {
                    verified++;
                    if (firstRootMismatchSize < 0)
                    {
                        lastGoodSize = h.Size;
                    }
                }
            }
        }

        progress?.Report(checkedLeaves);
        if (expected < size)
        {
            Add("missing", expected, $"leaves {expected} to {size - 1} are missing ({size - expected} events deleted from the end)");
        }

        if (!broken && expected == size && !frontier.Root().AsSpan().SequenceEqual(stateRoot))
        {
            Add("state", null, "the stored tree state does not match the events");
        }

        if (firstRootMismatchSize >= 0)
        {
            var located = await LocateAsync(store, lastGoodSize, firstRootMismatchSize, ct).ConfigureAwait(false);
            Add("reordered", located, located is { } l
                ? $"leaves {l} and {l + 1} differ from the stored tree: events were reordered or their hashes rewritten"
                : $"the change lies between leaf {lastGoodSize} and leaf {firstRootMismatchSize - 1}");
        }

        var unsigned = heads.Count == 0 ? size : Math.Max(0, size - heads[^1].Size);
        return new VerificationReport(size, checkedLeaves, purged, verified, unsigned, problems);
    }

    /// <summary>Finds the first pair of leaves whose recomputed parent differs from the stored level-1 node.</summary>
    private static async Task<long?> LocateAsync(IAuditStore store, long from, long to, CancellationToken ct)
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
