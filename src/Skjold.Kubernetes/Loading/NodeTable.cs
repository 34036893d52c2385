namespace Skjold.Kubernetes.Loading;

/// <summary>
/// Source positions of the JSON nodes of one document, in preorder (the order in which
/// <see cref="System.Text.Json.JsonDocument"/> stores them). For every node: line, column and the
/// index just past its subtree, so that siblings can be skipped without walking them. The three
/// numbers of a node sit side by side in one array; a builder table grows as nodes are added and
/// <see cref="Compact"/> copies it to one of exactly its size for keeping (a loaded file holds one
/// table per document, so spare capacity would be paid once per object).
/// </summary>
internal sealed class NodeTable
{
    private const int Stride = 3;

    private int[] _data;
    private Dictionary<int, int[]>? _arrayChildren;

    public NodeTable(int capacity = 64) => _data = new int[Math.Max(capacity, 1) * Stride];

    private NodeTable(int[] data, int count)
    {
        _data = data;
        Count = count;
    }

    public int Count { get; private set; }

    public int Line(int node) => _data[node * Stride];

    public int Column(int node) => _data[(node * Stride) + 1];

    public int End(int node) => _data[(node * Stride) + 2];

    /// <summary>Adds a node and returns its index. Containers must later be closed with <see cref="Close"/>.</summary>
    public int Add(int line, int column)
    {
        var at = Count * Stride;
        if (at == _data.Length)
        {
            Array.Resize(ref _data, _data.Length * 2);
        }

        _data[at] = line;
        _data[at + 1] = column;
        _data[at + 2] = Count + 1;
        return Count++;
    }

    public void Close(int node) => _data[(node * Stride) + 2] = Count;

    /// <summary>Forgets every node, keeping the capacity (a builder reused for the next document).</summary>
    public void Clear()
    {
        Count = 0;
        _arrayChildren = null;
    }

    /// <summary>A copy of exactly this table's size.</summary>
    public NodeTable Compact() => new(_data.AsSpan(0, Count * Stride).ToArray(), Count);

    /// <summary>Index of the <paramref name="k"/>-th child of the container at <paramref name="node"/>.</summary>
    public int Child(int node, int k, bool isArray)
    {
        if (isArray && k > 16)
        {
            return ArrayChildren(node) is { } children && k < children.Length ? children[k] : -1;
        }

        var end = End(node);
        var child = node + 1;
        for (var i = 0; i < k; i++)
        {
            if (child >= end)
            {
                return -1;
            }

            child = End(child);
        }

        return child < end ? child : -1;
    }

    private int[]? ArrayChildren(int node)
    {
        var cache = LazyInitializer.EnsureInitialized(ref _arrayChildren);
        lock (cache)
        {
            if (cache.TryGetValue(node, out var cached))
            {
                return cached;
            }

            var list = new List<int>();
            for (var child = node + 1; child < End(node); child = End(child))
            {
                list.Add(child);
            }

            var array = list.ToArray();
            cache[node] = array;
            return array;
        }
    }
}
