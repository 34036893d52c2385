using Skjold.Engine.Model;

namespace Skjold.Kubernetes.Loading;

/// <summary>The source map of one resource: its document's map and where the resource sits in it.</summary>
internal sealed class ResourceSourceMap(DocumentSourceMap document, IReadOnlyList<object> prefix) : ISourceMap
{
    public SourceLocation Locate(string path)
    {
        var segments = JsonPath.Split(path);
        if (prefix.Count == 0)
        {
            return document.Locate(segments);
        }

        var all = new List<object>(prefix.Count + segments.Count);
        all.AddRange(prefix);
        all.AddRange(segments);
        return document.Locate(all);
    }
}
