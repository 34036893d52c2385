using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Skjold.Engine.Model;

namespace Skjold.Kubernetes.Live;

/// <summary>
/// The live API as a cluster source: every kind the checks read, page by page, turned into
/// resources directly (each page's objects are rewritten as Skjold keeps them, apiVersion and kind
/// filled in and Secrets reduced to metadata, then parsed once; no snapshot text, no manifest loader).
/// </summary>
public sealed class LiveClusterSource(k8s.Kubernetes client) : IClusterSource
{
    /// <summary>Where live objects are said to be: the cluster, not a file or a line.</summary>
    public const string LocationName = "cluster";

    public string Description => client.BaseUri.ToString();

    public async Task<ClusterRead> ReadAsync(IProgress<(string Kind, int Count)>? progress, CancellationToken cancellationToken)
    {
        var resources = new List<Resource>();
        var location = new SourceLocation(LocationName, 1);
        var buffer = new ArrayBufferWriter<byte>(1 << 16);
        var writerOptions = new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        void Add(Action<Utf8JsonWriter> write)
        {
            buffer.ResetWrittenCount();
            using (var w = new Utf8JsonWriter(buffer, writerOptions))
            {
                w.WriteStartArray();
                write(w);
                w.WriteEndArray();
            }

            // The document lives as long as its resources (they hold elements of it).
            var doc = JsonDocument.Parse(buffer.WrittenMemory.ToArray(), new JsonDocumentOptions { MaxDepth = 256 });
            foreach (var item in doc.RootElement.EnumerateArray())
            {
                resources.Add(new Resource(item, Resource.ReadRef(item), location));
            }
        }

        var summary = await new ClusterReader(client).ReadAsync(
            version => Add(w => ClusterReader.WriteVersion(w, version)),
            (spec, items) => Add(w =>
            {
                foreach (var item in items.EnumerateArray())
                {
                    ClusterReader.WriteItem(w, item, spec);
                }
            }),
            () => Task.CompletedTask,
            progress, cancellationToken).ConfigureAwait(false);
        return new ClusterRead(resources, [], summary);
    }
}
