using System.Text.Json;

namespace Skjold.Engine.Model;

/// <summary>Small null-tolerant helpers over <see cref="JsonElement"/>.</summary>
public static class Json
{
    public static JsonElement Get(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : default;

    public static JsonElement Get(JsonElement element, ReadOnlySpan<byte> utf8Name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(utf8Name, out var value) ? value : default;

    public static string? GetString(JsonElement element, string name)
    {
        var value = Get(element, name);
        return value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }

    public static string? AsString(JsonElement element) => element.ValueKind == JsonValueKind.String ? element.GetString() : null;

    public static bool IsTrue(JsonElement element) => element.ValueKind == JsonValueKind.True;

    public static bool IsFalse(JsonElement element) => element.ValueKind == JsonValueKind.False;

    public static bool Exists(JsonElement element) => element.ValueKind is not JsonValueKind.Undefined and not JsonValueKind.Null;

    public static bool StringEquals(JsonElement element, ReadOnlySpan<byte> utf8) =>
        element.ValueKind == JsonValueKind.String && element.ValueEquals(utf8);

    public static bool IsNonEmptyString(JsonElement element) =>
        element.ValueKind == JsonValueKind.String && !element.ValueEquals(""u8);

    /// <summary>Reads an integer that may be written as a number or as a numeric string.</summary>
    public static long? GetInt64(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out var n))
        {
            return n;
        }

        if (element.ValueKind == JsonValueKind.Number && element.TryGetDouble(out var d))
        {
            return (long)d;
        }

        return null;
    }

    public static int ArrayLength(JsonElement element) => element.ValueKind == JsonValueKind.Array ? element.GetArrayLength() : 0;
}
