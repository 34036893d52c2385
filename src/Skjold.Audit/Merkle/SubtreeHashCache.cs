namespace Skjold.Audit.Merkle;

/// <summary>
/// Hashes of perfect subtrees from level <c>minLevel</c> up, kept in memory: they never change once
/// written, and an inclusion proof needs one per level. Stored flat, 32 bytes per hash in pages of
/// 4,096 per level (a dictionary entry per hash cost about three times the hash), up to a bound; an
/// all-zero slot is an absent hash (SHA-256 does not produce it in practice). When full, a cache
/// made with <c>evict</c> drops its oldest page to make room (it keeps the most recent hashes:
/// the tree grows at its right edge); otherwise it stops taking new pages.
/// </summary>
internal sealed class SubtreeHashCache(int minLevel, long maxHashes, bool evict = false)
{
    private readonly Queue<(int Level, int Page)> _order = new();

    private const int PageBits = 12;
    private const int PageSize = 1 << PageBits;

    private readonly Lock _lock = new();
    private readonly List<byte[]?>[] _levels = [.. Enumerable.Range(0, 64).Select(_ => new List<byte[]?>())];
    private long _pages;

    public int MinLevel { get; } = minLevel;

    public bool TryGet(int level, long index, out byte[] hash)
    {
        hash = [];
        if (level < MinLevel || level >= _levels.Length || index < 0)
        {
            return false;
        }

        lock (_lock)
        {
            var pages = _levels[level];
            var p = index >> PageBits;
            if (p >= pages.Count || pages[(int)p] is not { } page)
            {
                return false;
            }

            var slot = page.AsSpan((int)(index & (PageSize - 1)) * 32, 32);
            if (!slot.ContainsAnyExcept((byte)0))
            {
                return false;
            }

            hash = slot.ToArray();
            return true;
        }
    }

    public void Set(int level, long index, byte[] hash)
    {
        if (level < MinLevel || level >= _levels.Length || index < 0 || hash.Length != 32)
        {
            return;
        }

        lock (_lock)
        {
            var pages = _levels[level];
            var p = (int)(index >> PageBits);
            while (pages.Count <= p)
            {
                pages.Add(null);
            }

            if (pages[p] is not { } page)
            {
                if ((_pages + 1) * PageSize > maxHashes)
                {
                    if (!evict || _order.Count == 0)
                    {
                        return; // full: these are read from the store
                    }

                    var (oldLevel, oldPage) = _order.Dequeue();
                    _levels[oldLevel][oldPage] = null;
                    _pages--;
                }

                pages[p] = page = new byte[PageSize * 32];
                _pages++;
                _order.Enqueue((level, p));
            }

            hash.CopyTo(page.AsSpan((int)(index & (PageSize - 1)) * 32));
        }
    }
}
