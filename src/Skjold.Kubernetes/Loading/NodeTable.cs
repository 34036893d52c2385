namespace Skjold.Kubernetes.Loading;

/// <summary>
/// Source positions of the JSON nodes of one document, in preorder (the order in which
/// <see cref="System.Text.Json.JsonDocument"/> stores them). For every node: line, column and the
/// index just past its subtree, so that siblings can be skipped without walking them.
/// </summary>
internal sealed class NodeTable
{
    private int[] _line = new int[64];
    private int[] _column = new int[64];
    private int[] _end = new int[64];
    private Dictionary<int, int[]>? _arrayChildren;

    public int Count { get; private set; }

    public int Line(int node) => _line[node];

    public int Column(int node) => _column[node];

    public int End(int node) => _end[node];

    /// <summary>Adds a node and returns its index. Containers must later be closed with <see cref="Close"/>.</summary>
    public int Add(int line, int column)
    {
        if (Count == _line.Length)
        {
            var size = Count * 2;
            Array.Resize(ref _line, size);
            Array.Resize(ref _column, size);
            Array.Resize(ref _end, size);
        }

        _line[Count] = line;
        _column[Count] = column;
        _end[Count] = Count + 1;
        return Count++;
    }

    public void Close(int node) => _end[node] = Count;

    /// <summary>Index of the <paramref name="k"/>-th child of the container at <paramref name="node"/>.</summary>
    public int Child(int node, int k, bool isArray)
    {
        if (isArray && k > 16)
        {
            return ArrayChildren(node) is { } children && k < children.Length ? children[k] : -1;
        }

        var child = node + 1;
        for (var i = 0; i < k; i++)
        {
            if (child >= _end[node])
            {
                return -1;
            }

            child = _end[child];
        }

        return child < _end[node] ? child : -1;
    }

    private int[]? ArrayChildren(int node)
    {
        _arrayChildren ??= [];
        lock (_arrayChildren)
        {
            if (_arrayChildren.TryGetValue(node, out var cached))
            {
                return cached;
            }

            var list = new List<int>();
            for (var child = node + 1; child < _end[node]; child = _end[child])
            {
                list.Add(child);
            }

            var array = list.ToArray();
            _arrayChildren[node] = array;
            return array;
        }
    }
}
