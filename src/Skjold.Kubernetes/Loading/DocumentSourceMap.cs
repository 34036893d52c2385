using System.Text.Json;
using Skjold.Engine.Model;

namespace Skjold.Kubernetes.Loading;

/// <summary>
/// Maps JSON paths in one parsed document back to file positions. For YAML the node table is
/// built while converting; for JSON it is built on first use by re-reading the source bytes.
/// </summary>
internal sealed class DocumentSourceMap
{
    private NodeTable? _table;
    private Func<NodeTable>? _build;
    private object? _sync;

    /// <summary>A map whose node table is built on first use (JSON: by reading the source again).</summary>
    public DocumentSourceMap(string file, JsonElement root, Func<NodeTable> table)
    {
        File = file;
        Root = root;
        _build = table;
    }

    /// <summary>A map over a node table already built (YAML: while converting).</summary>
    public DocumentSourceMap(string file, JsonElement root, NodeTable table)
    {
        File = file;
        Root = root;
        _table = table;
    }

    private NodeTable Table => _table ?? LazyInitializer.EnsureInitialized(ref _table, ref _sync, () =>
    {
        var table = _build!();
        _build = null;
        return table;
    });

    public string File { get; }

    public JsonElement Root { get; }

    /// <summary>Locates a path from the document root.</summary>
    public SourceLocation Locate(string path) => Locate(Root, 0, path);

    /// <summary>
    /// The node index of a list item (<c>items[k]</c>) without indexing the JSON array, which is
    /// linear in <paramref name="k"/> for arrays of objects.
    /// </summary>
    public int ItemNode(int k) => ItemNode(Root, 0, k);

    /// <summary>The node index of item <paramref name="k"/> of the list object <paramref name="list"/> (node <paramref name="listNode"/>).</summary>
    public int ItemNode(JsonElement list, int listNode, int k)
    {
        var table = Table;
        if (table.Count == 0 || listNode < 0 || list.ValueKind != JsonValueKind.Object)
        {
            return -1;
        }

        var position = -1;
        var p = 0;
        foreach (var property in list.EnumerateObject())
        {
            if (property.NameEquals("items"u8))
            {
                position = p;
            }

            p++;
        }

        var itemsNode = position < 0 ? -1 : table.Child(listNode, position, isArray: false);
        return itemsNode < 0 ? -1 : table.Child(itemsNode, k, isArray: true);
    }

    /// <summary>
    /// Locates a dotted path (<c>spec.containers[0].image</c>, <c>metadata.annotations['a/b']</c>)
    /// relative to <paramref name="start"/>, whose node index is <paramref name="startNode"/>.
    /// Parses the path in place, without allocating for plain segments.
    /// </summary>
    public SourceLocation Locate(JsonElement start, int startNode, string path)
    {
        var table = Table;
        if (table.Count == 0 || startNode < 0 || startNode >= table.Count)
        {
            return new SourceLocation(File, 1);
        }

        var element = start;
        var node = startNode;
        var i = 0;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                i++;
                continue;
            }

            int child;
            JsonElement next;
            if (path[i] == '[' && i + 1 < path.Length && path[i + 1] != '\'')
            {
                var close = path.IndexOf(']', i);
                if (close < 0 || !int.TryParse(path.AsSpan(i + 1, close - i - 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var k))
                {
                    break;
                }

                i = close + 1;
                if (element.ValueKind != JsonValueKind.Array || k >= element.GetArrayLength())
                {
                    break;
                }

                next = element[k];
                child = table.Child(node, k, isArray: true);
            }
            else
            {
                ReadOnlySpan<char> name;
                string? unescaped = null;
                if (path[i] == '[')
                {
                    var end = path.IndexOf("']", i + 2, StringComparison.Ordinal);
                    while (end > 0 && path[end - 1] == '\\')
                    {
                        end = path.IndexOf("']", end + 1, StringComparison.Ordinal);
                    }

                    if (end < 0)
                    {
                        break;
                    }

                    name = path.AsSpan(i + 2, end - i - 2);
                    if (name.Contains('\\'))
                    {
                        unescaped = name.ToString().Replace("\\'", "'", StringComparison.Ordinal);
                        name = unescaped;
                    }

                    i = end + 2;
                }
                else
                {
                    var end = i;
                    while (end < path.Length && path[end] != '.' && path[end] != '[')
                    {
                        end++;
                    }

                    name = path.AsSpan(i, end - i);
                    i = end;
                }

                if (element.ValueKind != JsonValueKind.Object)
                {
                    break;
                }

                var position = -1;
                var p = 0;
                next = default;
                foreach (var property in element.EnumerateObject())
                {
                    if (property.NameEquals(name))
                    {
                        position = p;
                        next = property.Value;
                    }

                    p++;
                }

                if (position < 0)
                {
                    break;
                }

                child = table.Child(node, position, isArray: false);
            }

            if (child < 0)
            {
                break;
            }

            element = next;
            node = child;
        }

        return new SourceLocation(File, table.Line(node), table.Column(node));
    }
}
