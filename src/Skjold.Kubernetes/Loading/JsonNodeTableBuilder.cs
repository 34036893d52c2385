using System.Text.Json;

namespace Skjold.Kubernetes.Loading;

/// <summary>
/// Builds the node table of a JSON document by reading its bytes again with
/// <see cref="Utf8JsonReader"/>, counting lines as it goes. A property's value is placed on the
/// line of its name.
/// </summary>
internal static class JsonNodeTableBuilder
{
    public static NodeTable Build(ReadOnlyMemory<byte> source, int firstLine, int firstLineStart)
    {
        var table = new NodeTable();
        var span = source.Span;
        var reader = new Utf8JsonReader(span, new JsonReaderOptions
        {
            CommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
            MaxDepth = 4096,
        });
        var stack = new Stack<int>();
        var line = firstLine;
        var lineStart = firstLineStart;
        var scanned = 0;
        int pendingLine = -1, pendingColumn = 0;
        try
        {
            while (reader.Read())
            {
                var start = (int)reader.TokenStartIndex;
                for (var i = scanned; i < start; i++)
                {
                    if (span[i] == (byte)'\n')
                    {
                        line++;
                        lineStart = i + 1;
                    }
                }

                scanned = start;
                var column = start - lineStart + 1;
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        pendingLine = line;
                        pendingColumn = column;
                        break;
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        stack.Push(AddNode(table, line, column, ref pendingLine, pendingColumn));
                        if (stack.Count == 1 && reader.CurrentDepth == 0)
                        {
                            // root container
                        }

                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        table.Close(stack.Pop());
                        if (stack.Count == 0)
                        {
                            return table.Compact();
                        }

                        break;
                    default:
                        AddNode(table, line, column, ref pendingLine, pendingColumn);
                        if (stack.Count == 0)
                        {
                            return table.Compact();
                        }

                        break;
                }
            }
        }
        catch (JsonException)
        {
            // The document parsed once already; a failure here only loses line precision.
        }

        return table.Compact();
    }

    private static int AddNode(NodeTable table, int line, int column, ref int pendingLine, int pendingColumn)
    {
        int node;
        if (pendingLine >= 0)
        {
            node = table.Add(pendingLine, pendingColumn);
            pendingLine = -1;
        }
        else
        {
            node = table.Add(line, column);
        }

        return node;
    }
}
