using System.Globalization;
using System.Text.Json;

namespace Skjold.Detection.Falco;

/// <summary>Reading an audit event's JSON for the fields: paths, JSON pointers, scalars and lists as Falco renders them, image repositories and URI parameters.</summary>
public static partial class K8sAuditFields
{
    /// <summary>The image without its tag or digest: registry.example.com:5000/team/app:1.2@sha256:... is registry.example.com:5000/team/app.</summary>
    internal static string Repository(string image)
    {
        var at = image.IndexOf('@', StringComparison.Ordinal);
        var name = at >= 0 ? image[..at] : image;
        var colon = name.LastIndexOf(':');
        return colon > name.LastIndexOf('/') ? name[..colon] : name;
    }

    private static JsonElement Walk(JsonElement e, params string[] path)
    {
        foreach (var p in path)
        {
            if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(p, out e))
            {
                return default;
            }
        }

        return e;
    }

    private static JsonElement Follow(JsonElement e, string[] tokens)
    {
        foreach (var token in tokens)
        {
            if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty(token, out var next))
            {
                e = next;
            }
            else if (e.ValueKind == JsonValueKind.Array && int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < e.GetArrayLength())
            {
                e = e[i];
            }
            else
            {
                return default;
            }
        }

        return e;
    }

    private static JsonElement Pointer(JsonElement e, string pointer) =>
        pointer.Length == 0 ? e
        : pointer[0] != '/' ? default
        : Follow(e, [.. pointer[1..].Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal))]);

    private static IEnumerable<JsonElement> Items(JsonElement e) => e.ValueKind == JsonValueKind.Array ? e.EnumerateArray() : [];

    private static string? Str(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Object or JsonValueKind.Array => e.GetRawText(),
        _ => null,
    };

    private static string Bool(JsonElement e) => e.ValueKind == JsonValueKind.True ? "true" : "false";

    private static void AddScalar(JsonElement e, List<string> into)
    {
        if (Str(e) is { } s)
        {
            into.Add(s);
        }
    }

    private static void AddEach(JsonElement e, List<string> into)
    {
        foreach (var item in Items(e))
        {
            AddScalar(item, into);
        }
    }

    private static void AddEachRaw(JsonElement e, List<string> into)
    {
        foreach (var item in Items(e))
        {
            into.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : item.GetRawText());
        }
    }

    private static void AddJoined(JsonElement e, List<string> into)
    {
        if (e.ValueKind == JsonValueKind.Array)
        {
            into.Add(string.Join(' ', e.EnumerateArray().Select(x => Str(x) ?? string.Empty)));
        }
    }

    private static void UriParam(JsonElement uri, string key, List<string> into)
    {
        if (Str(uri) is not { } text || text.IndexOf('?', StringComparison.Ordinal) is var q && q < 0)
        {
            return;
        }

        foreach (var pair in text[(q + 1)..].Split('&'))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            if (name == key)
            {
                into.Add(eq < 0 ? string.Empty : Uri.UnescapeDataString(pair[(eq + 1)..]));
                return;
            }
        }
    }
}
