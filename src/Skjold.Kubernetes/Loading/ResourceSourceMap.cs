using System.Text.Json;
using Skjold.Engine.Model;

namespace Skjold.Kubernetes.Loading;

/// <summary>
/// The source map of one resource: its document's map and where the resource sits in it (the
/// document root, or item <c>k</c> of a list).
/// </summary>
internal sealed class ResourceSourceMap(DocumentSourceMap document, JsonElement root, int listItem) : ISourceMap
{
    private int _node = listItem < 0 ? 0 : int.MinValue;

    public SourceLocation Locate(string path)
    {
        if (_node == int.MinValue)
        {
            _node = document.ItemNode(listItem);
        }

        return document.Locate(root, _node, path);
    }
}
