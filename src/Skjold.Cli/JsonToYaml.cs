using System.Text.Json;
using YamlDotNet.Serialization;

namespace Skjold.Cli;

/// <summary>
/// -f yaml on every command that writes JSON: the same document, as YAML (kubectl users read
/// `-o yaml`). Strings that YAML would read as something else (true, 123, null, ~) are quoted.
/// </summary>
internal static class JsonToYaml
{
    private static readonly ISerializer Serializer = new SerializerBuilder().WithQuotingNecessaryStrings().DisableAliases().Build();

    public static string Convert(string json)
    {
        var documents = new List<string>();
        var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(json), new JsonReaderOptions { AllowMultipleValues = true });
        while (JsonDocument.TryParseValue(ref reader, out var doc))
        {
            using (doc)
            {
                documents.Add(Serializer.Serialize(ToObject(doc!.RootElement)));
            }
        }

        return string.Join("---\n", documents);
    }

    private static object? ToObject(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => e.EnumerateObject().ToDictionary(p => p.Name, p => ToObject(p.Value), StringComparer.Ordinal),
        JsonValueKind.Array => e.EnumerateArray().Select(ToObject).ToList(),
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.TryGetInt64(out var l) ? l : e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };
}
