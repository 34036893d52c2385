using Skjold.Audit.Signing;
using Skjold.Audit.Storage;

namespace Skjold.Audit;

public static partial class AuditVerifier
{
    private sealed partial class StoreRun
    {
        /// <summary>Every stored row in leaf order: payload against leaf hash, columns and terms against the payload, nodes and tiles against the leaves, and each head against the tree of its size.</summary>
        private async Task CheckLeavesAsync()
        {
            // Rows are read on one thread and re-derived (hash, parse, compare) on the others, a batch ahead
            // of the checks that must run in leaf order.
            var pipeline = System.Threading.Channels.Channel.CreateBounded<(List<StoredRow> Rows, Task<Derived[]> Derived)>(3);
            using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(_ct);
            var reader = Task.Run(async () =>
            {
                try
                {
                    var current = new List<StoredRow>(Batch);
                    await foreach (var r in _store.ReadRowsAsync(0, long.MaxValue, stopReading.Token).ConfigureAwait(false))
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
                Parallel.For(0, list.Count, new ParallelOptions { CancellationToken = stopReading.Token }, i => result[i] = Derive(list[i], _indexedKinds));
                return result;
            }

            await foreach (var (batch, deriving) in pipeline.Reader.ReadAllAsync(_ct).ConfigureAwait(false))
            {
                var derived = await deriving.ConfigureAwait(false);

                // Stored nodes and tiles up to the end of this batch, read ahead so that the checks in leaf order need no I/O.
                var batchEnd = batch[^1].Index + 1;
                await _nodes.FillAsync(n => ((n.Index + 1) << n.Level) <= batchEnd, _ct).ConfigureAwait(false);
                await _tiles.FillAsync(t => t.Tile <= batchEnd >> 4, _ct).ConfigureAwait(false);
                for (var b = 0; b < batch.Count; b++)
                {
                    var row = batch[b];
                    var d = derived[b];
                    var index = row.Index;
                    if (index >= _size)
                    {
                        _beyond++;
                        Add("beyond-state", index, $"leaf {index} is in the store but the tree state ends at {_size}: a row was added outside Skjold");
                        continue;
                    }

                    if (index != _expected)
                    {
                        if (index > _expected)
                        {
                            var missing = index - _expected;
                            Add("missing", _expected, missing == 1
                                ? $"leaf {_expected} is missing: the event was deleted"
                                : $"leaves {_expected} to {index - 1} are missing ({missing} events deleted)");
                        }

                        _broken = true;
                        _expected = index;
                    }

                    // The chunk this leaf is in: check the one it closes.
                    if (_sealer is null || index >> _bits != _sealer.Chunk)
                    {
                        await CloseChunkAsync().ConfigureAwait(false);
                        _sealer = new ChunkSeals.Sealer(_bits, index >> _bits, new byte[32]);
                        _chunkTerms = [];
                    }

                    if (row.Payload is null)
                    {
                        if (row.Purged)
                        {
                            _purgedLeaves.Add(index);
                        }
                        else
                        {
                            Add("payload-missing", index, $"leaf {index}: the event's payload is gone but the row is not marked purged");
                        }
                    }
                    else if (d.ParseError is not null)
                    {
                        Add("changed", index, $"leaf {index}: the stored event is not valid JSON ({d.ParseError}): it was changed");
                        _mismatched.Add(index);
                    }
                    else
                    {
                        if (row.Purged)
                        {
                            Add("purge-flag", index, $"leaf {index} is marked purged but still has its payload");
                        }

                        if (!d.HashOk)
                        {
                            _mismatched.Add(index); // changed, unless an erasure record covers it (checked below)
                        }

                        if (d.ColumnMismatch is { } column)
                        {
                            if (d.HashOk)
                            {
                                Add("column", index, $"leaf {index}: the stored {column} does not match the sealed event: the row was edited (queries would read the forged value)");
                            }
                            else
                            {
                                _mismatchedColumns[index] = column; // reported if an erasure covers the leaf; otherwise the leaf is reported as changed
                            }
                        }

                        _firstEventTime ??= d.Fields?.Time;

                        if (d.Record is { } rec && d.HashOk)
                        {
                            _records.Add(rec);
                            if (rec.Verb == "rotate-key" && rec.Annotations.TryGetValue(Retention.RecordPrefix + "rotate.new-key", out var pem)
                                && rec.Annotations.TryGetValue(Retention.RecordPrefix + "rotate.new-key-id", out var newId))
                            {
                                _pendingKeys.Add((index, newId, pem));
                            }
                        }

                        if (d.Fields is { } f)
                        {
                            if (d.HashOk && _indexedKinds.Length > 0)
                            {
                                foreach (var t in d.Terms!)
                                {
                                    if (_indexedKinds.Contains(t.Kind, StringComparison.Ordinal))
                                    {
                                        ref var l = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_chunkTerms, t, out _);
                                        (l ??= []).Add(index);
                                    }
                                }
                            }
                        }
                    }

                    _emitted.Clear();
                    if (!_broken)
                    {
                        _frontier.Append(row.LeafHash, _emitted);
                        CheckNodes();
                        row.LeafHash.CopyTo(_tileBuffer, (int)(index & 15) * 32);
                        if ((index & 15) == 15)
                        {
                            CheckTile(index >> 4);
                        }
                    }

                    _expected++;
                    _checkedLeaves++;
                    if (_checkedLeaves % 100_000 == 0)
                    {
                        _progress?.Report(_checkedLeaves);
                    }

                    while (!_broken && _headIndex < _heads.Count && _heads[_headIndex].Size == _frontier.Size)
                    {
                        var h = _heads[_headIndex++];
                        if (_options.Checkpoint is { } cp0 && cp0.Size == h.Size && !cp0.Root.AsSpan().SequenceEqual(h.Root))
                        {
                            Add("checkpoint", null, $"the store's head at size {h.Size} differs from the checkpoint of that size: the log was rewritten");
                        }

                        if (!_frontier.Root().AsSpan().SequenceEqual(h.Root))
                        {
                            Add("root", null, $"the tree of the first {h.Size} events does not match the tree head signed at {h.Timestamp:u}");
                            if (_firstRootMismatchSize < 0)
                            {
                                _firstRootMismatchSize = h.Size;
                            }
                        }
                        else if (!_trusted.TryGetValue(h.KeyId, out var verifier))
                        {
                            Add("key", null, $"tree head at size {h.Size} was signed by key {h.KeyId}, which is neither the given public key ({_key.KeyId}) nor one it rotated to in a sealed record");
                        }
                        else if (!verifier.Verify(h))
                        {
                            Add("signature", null, $"the signature of the tree head at size {h.Size} is not valid");
                        }
                        else
                        {
                            _verified++;
                            _lastVerifiedHeadSize = h.Size;
                            if (_firstRootMismatchSize < 0)
                            {
                                _lastGoodSize = h.Size;
                            }

                            // A rotation sealed under a trusted head introduces its new key for later heads.
                            foreach (var (at, newId, pem) in _pendingKeys.Where(k => k.Index < h.Size).ToList())
                            {
                                var v = new TreeHeadVerifier(pem);
                                if (v.KeyId == newId && _trusted.TryAdd(newId, v))
                                {
                                    _ownedVerifiers.Add(v);
                                }
                                else
                                {
                                    v.Dispose();
                                }

                                _pendingKeys.RemoveAll(k => k.Index == at);
                            }
                        }
                    }

                    if (_options.Checkpoint is { } cp && !_broken && _frontier.Size == cp.Size && !_frontier.Root().AsSpan().SequenceEqual(cp.Root))
                    {
                        Add("checkpoint", null, $"the first {cp.Size} events do not match the checkpoint kept at {cp.Timestamp:u}: the log was rewritten since");
                    }
                }
            }

            await reader.ConfigureAwait(false);
            await CloseChunkAsync().ConfigureAwait(false);
            await Task.WhenAll(_indexChecks).ConfigureAwait(false);
            _progress?.Report(_checkedLeaves);
        }

        private void CheckNodes()
        {
            foreach (var node in _emitted)
            {
                if (node.Item1 == 0)
                {
                    continue;
                }

                // Stored nodes come in the order appends complete them.
                var at = Position(node);
                while (_nodes.TryPeek(out var stored) && Position(stored) < at)
                {
                    Add("node", stored.Index << stored.Level, $"tree node ({stored.Level}, {stored.Index}) is not part of the tree: the nodes table was edited");
                    _nodes.Take();
                }

                var (level, idx, hash) = node;
                if (!_nodes.TryPeek(out var next) || Position(next) != at)
                {
                    if (level >= _lowestNode)
                    {
                        Add("node", idx << level, $"tree node ({level}, {idx}) over leaves {idx << level} to {((idx + 1) << level) - 1} is missing: proofs through it fail");
                    }

                    continue;
                }

                if (!next.Hash.AsSpan().SequenceEqual(hash))
                {
                    Add("node", idx << level, $"tree node ({level}, {idx}) over leaves {idx << level} to {((idx + 1) << level) - 1} does not match the leaves: the nodes table was edited (proofs from it would fail)");
                }

                _nodes.Take();
            }
        }

        private void CheckTile(long tile)
        {
            while (_tiles.TryPeek(out var t) && t.Tile < tile)
            {
                _tiles.Take();
            }

            if (_tiles.TryPeek(out var current) && current.Tile == tile)
            {
                if (!current.Hashes.AsSpan().SequenceEqual(_tileBuffer))
                {
                    Add("tile", tile * 16, $"the tile of leaves {tile * 16} to {(tile * 16) + 15} does not match their leaf hashes: the tiles table was edited (proofs from it would fail)");
                }

                _tiles.Take();
            }
        }

        private async Task CloseChunkAsync()
        {
            if (_sealer is null)
            {
                return;
            }

            var closing = _sealer;
            _sealer = null;
            var chunk = closing.Chunk;
            // A seal's contents are bound by the chain every head signs, and the columns it was made from
            // are checked against the payloads row by row: recomputing it would only re-check the writer.
            closing.Dispose();
            if ((chunk + 1) << _bits > _size)
            {
                return; // the open chunk has no term index rows yet
            }

            // The store's term index must hold every (term, leaf) the payloads give: checked beside the
            // leaf-order checks, one task per chunk.
            if (_indexedKinds.Length > 0)
            {
                var terms = _chunkTerms;
                _chunkTerms = [];
                _indexChecks.Add(Task.Run(() => CheckIndexAsync(chunk, terms), _ct));
            }
        }

        private async Task CheckIndexAsync(long chunk, Dictionary<TermPostings.Term, List<long>> terms)
        {
            // Postings are compared as stored (encoded); only a row that differs is decoded (an erasure
            // leaves extra entries behind, which are harmless).
            if (await _store.PostingsOfChunkAsync(chunk << _bits, (chunk + 1) << _bits, _ct).ConfigureAwait(false) is { } postings)
            {
                var offsets = new List<int>();
                foreach (var (termKey, leaves) in terms)
                {
                    var term = termKey.ToString();
                    offsets.Clear();
                    offsets.AddRange(leaves.Select(l => (int)(l - (chunk << _bits))));
                    if (postings.TryGetValue(term, out var data) && data.AsSpan().SequenceEqual(_store.EncodePostings(offsets)))
                    {
                        continue;
                    }

                    List<long>? have = null;
                    if (data is not null)
                    {
                        have = [];
                        TermPostings.Decode(data, chunk << _bits, 1 << _bits, have);
                    }

                    if (MissingFrom(leaves, have) is { } leaf)
                    {
                        Add("index", leaf, $"leaf {leaf} is missing from the term index under '{term}': a query for it would silently omit the event");
                    }
                }
            }
            else if (await _store.IndexEntriesAsync(chunk << _bits, (chunk + 1) << _bits, _ct).ConfigureAwait(false) is { } entries)
            {
                foreach (var (termKey, leaves) in terms)
                {
                    var term = termKey.ToString();
                    entries.TryGetValue(term, out var have);
                    if (MissingFrom(leaves, have) is { } leaf)
                    {
                        Add("index", leaf, $"leaf {leaf} is missing from the term index under '{term}': a query for it would silently omit the event");
                    }
                }
            }
        }
    }
}
