using Skjold.Audit.Merkle;
using Skjold.Audit.Signing;
using Skjold.Audit.Storage;

namespace Skjold.Audit;

public static partial class AuditVerifier
{
    private sealed partial class StoreRun
    {
        /// <summary>The sealed query index: every stored seal consistent, chained, the chain each head signs, and the latest head's seal of the open chunk.</summary>
        private async Task CheckSealChainAsync()
        {
            // The sealed query index: every stored seal consistent, chained, and the chain each head signs.
            var chain = new byte[32];
            var sealedChunks = _size >> _bits;
            var chainAt = new Dictionary<long, byte[]> { [0] = chain };
            for (long c = 0; c < sealedChunks; c++)
            {
                if (!_seals.TryGetValue(c, out var seal))
                {
                    Add("index-seal", c << _bits, $"the seal of chunk {c} (leaves {c << _bits} to {((c + 1) << _bits) - 1}) is missing: queries could not confirm their answers there");
                    break;
                }

                if (!seal.IsConsistent)
                {
                    Add("index-seal", c << _bits, $"the seal of chunk {c} does not match its own contents: it was edited");
                }

                chain = ChunkSeals.ChainOf(chain, seal.Digest);
                if (!chain.AsSpan().SequenceEqual(seal.Chain))
                {
                    Add("index-seal", c << _bits, $"the chain value of chunk {c}'s seal is wrong: seals were edited, deleted or reordered");
                    chain = seal.Chain;
                }

                chainAt[c + 1] = chain;
            }

            foreach (var h in _heads)
            {
                if (h.Index is { } index && index.Bits == _bits && chainAt.TryGetValue(index.Chunks, out var expectedChain) && !expectedChain.AsSpan().SequenceEqual(index.Chain))
                {
                    Add("index-seal", index.Chunks << _bits, $"the chunk seals up to chunk {index.Chunks} differ from what the tree head at size {h.Size} signed: the query index was rewritten");
                }
            }

            // The latest head's seal of the open chunk (the one queries rely on).
            if (_heads.Count > 0 && _heads[^1].Index is { } last && last.Bits == _bits && _heads[^1].Size > last.Chunks << _bits)
            {
                var open = await _store.PartialSealAsync(_heads[^1].Size, _ct).ConfigureAwait(false);
                if (open is null || !open.IsConsistent || !open.Digest.AsSpan().SequenceEqual(last.Partial))
                {
                    Add("index-seal", last.Chunks << _bits, $"the seal of leaves {last.Chunks << _bits} to {_heads[^1].Size - 1} differs from what the latest tree head signed: the query index was rewritten");
                }
            }
        }

        private async Task<long> CheckRedactionsAsync()
        {
            // Purge and erasure records count only when a verified tree head covers them.
            var usable = _records.Where(r => r.Index < _lastVerifiedHeadSize).ToList();
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

                            await foreach (var r in _store.ReadRowsAsync(from, to + 1, _ct).ConfigureAwait(false))
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
            foreach (var leaf in _purgedLeaves)
            {
                if (!Covered(purgeRanges, leaf))
                {
                    Add("purge-unrecorded", leaf, $"leaf {leaf}: the payload is gone and no sealed purge record covers it: the event was deleted outside a retention purge");
                }
            }

            foreach (var leaf in _mismatched.Order())
            {
                if (Covered(eraseRanges, leaf))
                {
                    erasedCount++;
                    if (_mismatchedColumns.TryGetValue(leaf, out var column))
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

        private async Task CheckCheckpointAsync(SignedTreeHead cp)
        {
            if (!_trusted.TryGetValue(cp.KeyId, out var v) || !v.Verify(cp))
            {
                Add("checkpoint", null, $"the checkpoint (size {cp.Size}) is not signed by the given public key");
                return;
            }

            if (cp.Size > _size || (_lastHead is not null && cp.Size > _lastHead.Size))
            {
                Add("rollback", cp.Size, $"the checkpoint kept at {cp.Timestamp:u} signs {cp.Size} events but the store's log is smaller ({_size} events, last head {_lastHead?.Size ?? 0}): the log was rolled back");
                return;
            }

            if (_lastHead is null || _broken)
            {
                return;
            }

            var proof = await MerkleTree.ConsistencyProofAsync(cp.Size, _lastHead.Size, _store, _ct).ConfigureAwait(false);
            if (!MerkleTree.VerifyConsistency(cp.Size, _lastHead.Size, cp.Root, _lastHead.Root, proof))
            {
                Add("checkpoint", null, $"the latest head (size {_lastHead.Size}) does not extend the checkpoint (size {cp.Size}): the log was rewritten since");
            }
        }
    }
}
