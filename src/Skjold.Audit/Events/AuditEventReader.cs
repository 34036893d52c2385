using System.Globalization;
using System.Text.Json;
using Skjold.Audit.Merkle;

namespace Skjold.Audit.Events;

/// <summary>
/// Reads Kubernetes audit events as the API server sends them: an <c>audit.k8s.io/v1</c> (or
/// v1beta1) EventList from the webhook backend, a single Event, or JSON lines from the log backend,
/// including older events without apiVersion. Invalid input becomes an error naming what is wrong;
/// it never stops the other events.
/// </summary>
public static class AuditEventReader
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 256 };

    /// <summary>
    /// Parsed events and the errors of those that were refused. The events point into the parsed
    /// document, whose buffers come from a pool: dispose the result once the events are appended
    /// (or cloned), so that a large batch does not leave large arrays to the garbage collector.
    /// </summary>
    public sealed record ReadResult(IReadOnlyList<JsonElement> Events, IReadOnlyList<string> Errors) : IDisposable
    {
        internal JsonDocument? Document { get; init; }

        public void Dispose() => Document?.Dispose();
    }

    /// <summary>Parses a webhook body: an EventList or a single Event.</summary>
    public static ReadResult ReadBody(ReadOnlyMemory<byte> body)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, Options);
        }
        catch (JsonException ex)
        {
            return new ReadResult([], [$"body is not valid JSON: {ex.Message}"]);
        }

        var root = doc.RootElement;
        var events = new List<JsonElement>();
        var errors = new List<string>();
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("kind"u8, out var kind) && kind.ValueKind == JsonValueKind.String && kind.ValueEquals("EventList"u8))
        {
            if (!root.TryGetProperty("items"u8, out var items) || items.ValueKind != JsonValueKind.Array)
            {
                doc.Dispose();
                return new ReadResult([], ["EventList has no items array"]);
            }

            var i = 0;
            foreach (var item in items.EnumerateArray())
            {
                if (Validate(item) is { } error)
                {
                    errors.Add($"items[{i}]: {error}");
                }
                else
                {
                    events.Add(item);
                }

                i++;
            }
        }
        else if (Validate(root) is { } error)
        {
            errors.Add(error);
        }
        else
        {
            events.Add(root);
        }

        return new ReadResult(events, errors) { Document = doc };
    }

    /// <summary>Parses one line of the log backend's output.</summary>
    public static bool TryReadLine(string line, out JsonElement auditEvent, out string? error)
    {
        auditEvent = default;
        try
        {
            using var doc = JsonDocument.Parse(line, Options);
            error = Validate(doc.RootElement);
            if (error is not null)
            {
                return false;
            }

            auditEvent = doc.RootElement.Clone();
            return true;
        }
        catch (JsonException ex)
        {
            error = $"not valid JSON: {ex.Message}";
            return false;
        }
    }

    /// <summary>Null when <paramref name="e"/> is a usable audit Event, else why not.</summary>
    public static string? Validate(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            return $"an audit event must be a JSON object, not {e.ValueKind.ToString().ToLowerInvariant()}";
        }

        if (!e.TryGetProperty("kind"u8, out var kind) || kind.ValueKind != JsonValueKind.String || !kind.ValueEquals("Event"u8))
        {
            return $"not an audit Event (kind is {(e.TryGetProperty("kind"u8, out var k) ? k.GetRawText() : "missing")})";
        }

        if (e.TryGetProperty("apiVersion"u8, out var api) && api.ValueKind == JsonValueKind.String
            && !(api.ValueEquals("audit.k8s.io/v1"u8) || api.ValueEquals("audit.k8s.io/v1beta1"u8) || api.ValueEquals("audit.k8s.io/v1alpha1"u8)))
        {
            return $"unsupported audit apiVersion {api.GetString()}";
        }

        if (!IsString(e, "auditID"u8))
        {
            return "audit Event has no auditID";
        }

        if (!IsString(e, "verb"u8))
        {
            return "audit Event has no verb";
        }

        if (Time(e) is null)
        {
            return "audit Event has no valid timestamp (requestReceivedTimestamp, stageTimestamp or timestamp)";
        }

        return null;
    }

    /// <summary>Redacts, canonicalises and hashes an event, and extracts its indexed fields.</summary>
    public static PreparedEvent Prepare(JsonElement e, KeyedRedactor redactor)
    {
        redactor.BeginEvent(e);
        var canonical = CanonicalJson.Serialize(e, redactor);
        var leaf = MerkleHash.Leaf(canonical);
        return new PreparedEvent(canonical, leaf, Extract(e, -1));
    }

    public static AuditRecord Extract(JsonElement e, long index)
    {
        var user = Get(e, "user"u8);
        var objectRef = Get(e, "objectRef"u8);
        var groups = new List<string>();
        if (Get(user, "groups"u8) is { ValueKind: JsonValueKind.Array } g)
        {
            foreach (var x in g.EnumerateArray())
            {
                if (x.ValueKind == JsonValueKind.String)
                {
                    groups.Add(Repeated(x)!);
                }
            }
        }

        string? sourceIp = null;
        if (Get(e, "sourceIPs"u8) is { ValueKind: JsonValueKind.Array } ips && ips.GetArrayLength() > 0 && ips[0].ValueKind == JsonValueKind.String)
        {
            sourceIp = Repeated(ips[0]);
        }

        int? code = Get(Get(e, "responseStatus"u8), "code"u8) is { ValueKind: JsonValueKind.Number } c && c.TryGetInt32(out var ci) ? ci : null;
        return new AuditRecord(
            index,
            Time(e) ?? DateTimeOffset.UnixEpoch,
            Str(e, "auditID"u8),
            Repeated(Get(e, "stage"u8)),
            Repeated(Get(e, "verb"u8)),
            Repeated(Get(user, "username"u8)),
            groups,
            sourceIp,
            Repeated(Get(e, "userAgent"u8)),
            Repeated(Get(objectRef, "resource"u8)),
            Repeated(Get(objectRef, "subresource"u8)),
            Repeated(Get(objectRef, "namespace"u8)),
            Str(objectRef, "name"u8),
            Repeated(Get(objectRef, "apiGroup"u8)),
            code,
            Str(e, "requestURI"u8));
    }

    private static DateTimeOffset? Time(JsonElement e) =>
        TimeOf(Get(e, "requestReceivedTimestamp"u8)) ?? TimeOf(Get(e, "timestamp"u8)) ?? TimeOf(Get(e, "stageTimestamp"u8));

    private static DateTimeOffset? TimeOf(JsonElement v)
    {
        if (v.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        // RFC 3339 in UTC, as the API server writes it, is read straight from the UTF-8; anything
        // else goes through the lenient parser (which takes a time without zone as UTC).
        var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(v);
        return raw.Length > 2 && raw[^2] == (byte)'Z' && v.TryGetDateTimeOffset(out var t) ? t.ToUniversalTime() : ParseTime(v.GetString());
    }

    private static DateTimeOffset? ParseTime(string? s) =>
        s is not null && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t : null;

    private static JsonElement Get(JsonElement e, ReadOnlySpan<byte> name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? v : default;

    private static string? Str(JsonElement e, ReadOnlySpan<byte> name) =>
        Get(e, name) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

    // Users, verbs, namespaces, resources, groups, source IPs and user agents repeat from event to
    // event: each thread keeps the strings it has made (up to a bound) and hands the same one out.
    [ThreadStatic]
    private static Dictionary<string, string>? t_repeated;

    /// <summary>A string value that is likely to repeat, without a new string when it has been seen.</summary>
    private static string? Repeated(JsonElement v)
    {
        if (v.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(v); // with its quotes
        if (raw.Length > 258 || raw.IndexOf((byte)'\\') >= 0)
        {
            return v.GetString();
        }

        Span<char> chars = stackalloc char[256];
        var n = System.Text.Encoding.UTF8.GetChars(raw[1..^1], chars);
        var cache = t_repeated ??= new Dictionary<string, string>(StringComparer.Ordinal);
        if (cache.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(chars[..n], out var known))
        {
            return known;
        }

        var made = new string(chars[..n]);
        if (cache.Count < 8192)
        {
            cache[made] = made;
        }

        return made;
    }

    private static bool IsString(JsonElement e, ReadOnlySpan<byte> name) => Get(e, name).ValueKind == JsonValueKind.String;
}
