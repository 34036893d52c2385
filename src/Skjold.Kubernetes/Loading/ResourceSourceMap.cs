using System.Text.Json;
using Skjold.Engine.Model;

namespace Skjold.Kubernetes.Loading;

/// <summary>
/// The source map of one resource: its document's map and where the resource sits in it (the
/// document root, or item <c>k</c> of a list, which may itself be an item of a list).
/// </summary>
internal sealed class ResourceSourceMap(DocumentSourceMap document, JsonElement root, int listItem, ResourceSourceMap? parent = null) : ISourceMap
{
    private int _node = listItem < 0 ? 0 : int.MinValue;

    /// <summary>The JSON element this map locates from.</summary>
    public JsonElement Root => root;

    /// <summary>This resource's node index in the document's node table.</summary>
    public int Node
    {
        get
        {
            if (_node == int.MinValue)
            {
                _node = parent is null ? document.ItemNode(listItem) : document.ItemNode(parent.Root, parent.Node, listItem);
            }

            return _node;
        }
    }

    public SourceLocation Locate(string path) => document.Locate(root, Node, path);
}
