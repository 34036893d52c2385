using System.Text.Json;

namespace Skjold.Detection.Falco;

/// <summary>
/// Audit events as the API server's log backend writes them (and Falco's trace files hold them):
/// one JSON Event, or EventList, per line. A line that is not an audit event is counted, not fatal.
/// </summary>
public static class AuditEventLines
{
    /// <summary>The events of <paramref name="reader"/>, in order; <paramref name="rejected"/> is told the number of each line that held none.</summary>
    public static IEnumerable<JsonElement> Read(TextReader reader, Action<long>? rejected = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        long number = 0;
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            JsonElement root;
            try
            {
                using var doc = JsonDocument.Parse(line, new JsonDocumentOptions { MaxDepth = 256 });
                root = doc.RootElement.Clone();
            }
            catch (JsonException)
            {
                rejected?.Invoke(number);
                continue;
            }

            var kind = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("kind", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString() : null;
            if (kind == "EventList" && root.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array)
            {
                foreach (var e in items.EnumerateArray())
                {
                    yield return e;
                }
            }
            else if (kind == "Event")
            {
                yield return root;
            }
            else
            {
                rejected?.Invoke(number);
            }
        }
    }
}
