using System.Text.Json;
using Skjold.Engine.Model;

namespace Skjold.Kubernetes.Loading;

/// <summary>
/// Maps JSON paths in one parsed document back to file positions. For YAML the node table is
/// built while converting; for JSON it is built on first use by re-reading the source bytes.
/// </summary>
internal sealed class DocumentSourceMap
{
    private readonly Lazy<NodeTable> _table;

    public DocumentSourceMap(string file, JsonElement root, Func<NodeTable> table)
    {
        File = file;
        Root = root;
        _table = new Lazy<NodeTable>(table, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public string File { get; }

    public JsonElement Root { get; }

    public SourceLocation Locate(IReadOnlyList<object> segments)
    {
        var table = _table.Value;
        if (table.Count == 0)
        {
            return new SourceLocation(File, 1);
        }

        var element = Root;
        var node = 0;
        foreach (var segment in segments)
        {
            int child;
            JsonElement next;
            if (segment is int k)
            {
                if (element.ValueKind != JsonValueKind.Array || k < 0 || k >= element.GetArrayLength())
                {
                    break;
                }

                next = element[k];
                child = table.Child(node, k, isArray: true);
            }
            else
            {
                if (element.ValueKind != JsonValueKind.Object)
                {
                    break;
                }

                var name = (string)segment;
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
