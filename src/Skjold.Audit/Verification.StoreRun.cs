using Skjold.Audit.Merkle;
using Skjold.Audit.Signing;
using Skjold.Audit.Storage;

namespace Skjold.Audit;

public static partial class AuditVerifier
{
    /// <summary>One verification of a store: what it has read and found so far, and each check in turn.</summary>
    private sealed partial class StoreRun
    {
        private readonly IAuditVerificationSource _store;
        private readonly TreeHeadVerifier _key;
        private readonly IProgress<long>? _progress;
        private readonly CancellationToken _ct;
        private readonly VerifyOptions _options;

        private readonly List<VerificationProblem> _problems = [];
        private readonly List<string> _warnings = [];
        private readonly Lock _problemLock = new();
        private readonly List<Task> _indexChecks = [];
        private long _problemCount;

        // What the store says: its state, heads, seals and layout.
        private long _size;
        private byte[] _stateRoot = [];
        private IReadOnlyList<SignedTreeHead> _heads = [];
        private Dictionary<long, ChunkSeals.Seal> _seals = [];
        private int _bits;
        private int _lowestNode;
        private string _indexedKinds = string.Empty;
        private SignedTreeHead? _lastHead;

        // Keys: the given one, and those it (or a key it trusts) rotated to in a sealed record.
        private readonly Dictionary<string, TreeHeadVerifier> _trusted = new(StringComparer.Ordinal);
        private readonly List<TreeHeadVerifier> _ownedVerifiers = [];
        private readonly List<(long Index, string KeyId, string Pem)> _pendingKeys = [];

        // The tree as recomputed from the leaves, and the stored nodes and tiles read beside it.
        private readonly Frontier _frontier = new();
        private readonly List<(int, long, byte[])> _emitted = [];
        private readonly byte[] _tileBuffer = new byte[16 * 32];
        private Lookahead<(int Level, long Index, byte[] Hash)> _nodes = null!;
        private Lookahead<(long Tile, byte[] Hashes)> _tiles = null!;

        private readonly List<SystemRecord> _records = [];
        private readonly List<long> _purgedLeaves = [];
        private readonly HashSet<long> _mismatched = [];
        private readonly Dictionary<long, string> _mismatchedColumns = [];
        private DateTimeOffset? _firstEventTime;
        private int _headIndex;
        private int _verified;
        private long _expected;
        private long _checkedLeaves;
        private long _beyond;
        private bool _broken;
        private long _firstRootMismatchSize = -1;
        private long _lastGoodSize;
        private long _lastVerifiedHeadSize;

        // The open chunk as re-derived from the payloads: its seal and its terms.
        private ChunkSeals.Sealer? _sealer;
        private Dictionary<TermPostings.Term, List<long>> _chunkTerms = [];

        public StoreRun(IAuditVerificationSource store, TreeHeadVerifier key, IProgress<long>? progress, VerifyOptions options, CancellationToken ct)
        {
            _store = store;
            _key = key;
            _progress = progress;
            _options = options;
            _ct = ct;
            _trusted[key.KeyId] = key;
            foreach (var also in options.AlsoTrusted)
            {
                _trusted.TryAdd(also.KeyId, also);
            }
        }

        public async Task<VerificationReport> RunAsync()
        {
            (_size, _stateRoot) = await _store.StateAsync(_ct).ConfigureAwait(false);
            _heads = await _store.TreeHeadsAsync(_ct).ConfigureAwait(false);
            _seals = (await _store.SealsAsync(0, long.MaxValue, _ct).ConfigureAwait(false)).ToDictionary(s => s.Chunk);
            _bits = _store.SealBits;
            _lowestNode = _store.LowestStoredNodeLevel;
            _indexedKinds = _store.IndexedTermKinds;
            CheckHeadChain();
            await using (_nodes = new Lookahead<(int Level, long Index, byte[] Hash)>(_store.ReadStoredNodesAsync(_ct).GetAsyncEnumerator(_ct)))
            await using (_tiles = new Lookahead<(long Tile, byte[] Hashes)>(_store.ReadTilesAsync(_ct).GetAsyncEnumerator(_ct)))
            {
                await CheckLeavesAsync().ConfigureAwait(false);
                await CheckAfterLeavesAsync().ConfigureAwait(false);
                await CheckSealChainAsync().ConfigureAwait(false);
                var erased = await CheckRedactionsAsync().ConfigureAwait(false);
                var unsigned = CheckSigningBounds();
                if (_options.Checkpoint is { } checkpoint)
                {
                    await CheckCheckpointAsync(checkpoint).ConfigureAwait(false);
                }

                foreach (var v in _ownedVerifiers)
                {
                    v.Dispose();
                }

                return new VerificationReport(_size, _checkedLeaves, _purgedLeaves.Count, _verified, unsigned, _problems)
                {
                    ProblemCount = _problemCount,
                    Erased = erased,
                    Warnings = _warnings,
                    TrustedKeys = [.. _trusted.Keys],
                };
            }
        }

        private void Add(string kind, long? leaf, string message)
        {
            lock (_problemLock)
            {
                _problemCount++;
                if (_problems.Count < MaxReported)
                {
                    _problems.Add(new VerificationProblem(kind, leaf, message));
                }
            }
        }

        /// <summary>The chain of stored heads: in time order, none beyond the log, each following the one before it (a deleted head breaks the chain).</summary>
        private void CheckHeadChain()
        {
            DateTimeOffset? previousTime = null;
            for (var i = 0; i < _heads.Count; i++)
            {
                var h = _heads[i];
                if (previousTime is { } p && h.Timestamp < p)
                {
                    Add("tree-head-order", null, $"tree head at size {h.Size} is dated before the previous one");
                }

                previousTime = h.Timestamp;
                if (h.Size > _size)
                {
                    Add("tree-head-beyond-log", null, $"tree head signs size {h.Size} but the log holds only {_size} events: events were deleted from the end");
                }

                if (h.Extension is not null)
                {
                    if (i == 0 && h.PreviousSize == 0 && h.Size > _options.MaxUnsigned)
                    {
                        Add("tree-head-missing", null, $"the first stored tree head signs {h.Size} events, more than a writer leaves unsigned ({_options.MaxUnsigned}): the heads before it were deleted");
                    }

                    var expectedPrevious = i == 0 ? 0 : _heads[i - 1].Size;
                    if (h.PreviousSize != expectedPrevious || (i > 0 && !h.PreviousDigest.SequenceEqual(_heads[i - 1].Digest())))
                    {
                        Add("tree-head-missing", null, h.PreviousSize != expectedPrevious
                            ? $"tree head at size {h.Size} follows a head at size {h.PreviousSize}, which is not in the store: tree heads were deleted"
                            : $"tree head at size {h.Size} does not follow the stored head at size {expectedPrevious}: tree heads were deleted or replaced");
                    }

                    if (h.Index is { } index && index.Bits != _bits)
                    {
                        Add("index-seal", null, $"tree head at size {h.Size} seals chunks of 2^{index.Bits} leaves but the store uses 2^{_bits}");
                    }
                }
            }
        }

        /// <summary>What the leaves leave to check: events missing at the end, the stored state, nodes beyond the tree, and where a reordering lies.</summary>
        private async Task CheckAfterLeavesAsync()
        {
            if (_expected < _size)
            {
                Add("missing", _expected, $"leaves {_expected} to {_size - 1} are missing ({_size - _expected} events deleted from the end)");
            }

            if (!_broken && _expected == _size && !_frontier.Root().AsSpan().SequenceEqual(_stateRoot))
            {
                Add("state", null, "the stored tree state does not match the events");
            }

            await _nodes.FillAsync(_ => true, _ct).ConfigureAwait(false);
            while (!_broken && _nodes.TryPeek(out var left))
            {
                var (l, i, _) = left;
                Add("node", i << l, $"tree node ({l}, {i}) is not part of the tree: the nodes table was edited");
                _nodes.Take();
            }

            if (_firstRootMismatchSize >= 0)
            {
                var located = await LocateAsync(_store, _lastGoodSize, _firstRootMismatchSize, _ct).ConfigureAwait(false);
                Add("reordered", located, located is { } l
                    ? $"leaves {l} and {l + 1} differ from the stored tree: events were reordered or their hashes rewritten"
                    : $"the change lies between leaf {_lastGoodSize} and leaf {_firstRootMismatchSize - 1}");
            }
        }

        /// <summary>Heads cannot be dropped or rolled back unnoticed: the events after the last head are within the sealing interval; returns how many there are.</summary>
        private long CheckSigningBounds()
        {
            // Tree heads cannot be dropped or rolled back unnoticed.
            _lastHead = _heads.Count > 0 ? _heads[^1] : null;
            var unsigned = Math.Max(0, _size - (_lastHead?.Size ?? 0));
            var now = _options.Time.GetUtcNow();
            if (_size > 0 && _lastHead is null && (unsigned > _options.MaxUnsigned || _firstEventTime is not { } first || now - first > _options.MaxUnsignedAge))
            {
                Add("unsigned", 0, $"no signed tree head covers any of the {_size} events: the tree heads were deleted, or the log was never sealed");
            }
            else if (_size > 0 && _lastHead is null)
            {
                _warnings.Add($"no tree head is signed yet: the {_size} events are within the sealing interval and not yet proven");
            }
            else if (unsigned > _options.MaxUnsigned)
            {
                Add("unsigned", _lastHead!.Size, $"{unsigned} events after the last signed tree head (size {_lastHead.Size}) are more than a writer leaves unsigned ({_options.MaxUnsigned}): tree heads were deleted, or events were added outside Skjold");
            }
            else if (unsigned > 0 && now - _lastHead!.Timestamp > _options.MaxUnsignedAge)
            {
                Add("unsigned", _lastHead.Size, $"{unsigned} events after the last signed tree head (size {_lastHead.Size}, {_lastHead.Timestamp:u}) are unsigned for longer than the sealing interval allows: tree heads were deleted, events were added outside Skjold, or the receiver stopped before sealing them (start it and verify again)");
            }
            else if (unsigned > 0)
            {
                _warnings.Add($"{unsigned} events after the last signed tree head are within the sealing interval and not yet signed: they are not proven");
            }

            return unsigned;
        }
    }
}
