using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Skjold.Reports;

/// <summary>
/// JSON documents written as YAML through YamlDotNet's emitter (events only: no reflection, so
/// it runs in the native AOT build). Strings that a YAML reader would take for another type
/// (true, no, 123, 1e3, null, ~, an empty string) are double-quoted, so a value read back, or
/// applied with kubectl, keeps its type: an annotation "23.8" stays a string.
/// </summary>
public static partial class YamlText
{
    /// <summary>Writes one YAML document per JSON value, separated by <c>---</c>.</summary>
    public static void Write(IEnumerable<JsonNode?> documents, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(documents);
        var emitter = new Emitter(output);
        emitter.Emit(new StreamStart());
        var first = true;
        foreach (var document in documents)
        {
            emitter.Emit(new DocumentStart(null, null, isImplicit: first));
            Node(emitter, document);
            emitter.Emit(new DocumentEnd(isImplicit: true));
            first = false;
        }

        emitter.Emit(new StreamEnd());
    }

    /// <summary>Every JSON value in <paramref name="json"/> (one or several, concatenated) as YAML.</summary>
    public static string FromJson(string json)
    {
        var documents = new List<JsonNode?>();
        var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(json), new JsonReaderOptions { AllowMultipleValues = true });
        while (reader.Read())
        {
            documents.Add(JsonNode.Parse(ref reader));
        }

        var sw = new StringWriter(CultureInfo.InvariantCulture);
        Write(documents, sw);
        return sw.ToString();
    }

    private static void Node(IEmitter emitter, JsonNode? node)
    {
        switch (node)
        {
            case null:
                emitter.Emit(new Scalar(null, null, "null", ScalarStyle.Plain, true, false));
                break;
            case JsonObject obj:
                emitter.Emit(new MappingStart(null, null, true, MappingStyle.Any));
                foreach (var (key, value) in obj)
                {
                    Text(emitter, key);
                    Node(emitter, value);
                }

                emitter.Emit(new MappingEnd());
                break;
            case JsonArray array:
                emitter.Emit(new SequenceStart(null, null, true, SequenceStyle.Any));
                foreach (var item in array)
                {
                    Node(emitter, item);
                }

                emitter.Emit(new SequenceEnd());
                break;
            default:
                Value(emitter, node.AsValue());
                break;
        }
    }

    private static void Value(IEmitter emitter, JsonValue value)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                Text(emitter, value.GetValue<string>());
                break;
            case JsonValueKind.True:
                emitter.Emit(new Scalar(null, null, "true", ScalarStyle.Plain, true, false));
                break;
            case JsonValueKind.False:
                emitter.Emit(new Scalar(null, null, "false", ScalarStyle.Plain, true, false));
                break;
            case JsonValueKind.Null:
                emitter.Emit(new Scalar(null, null, "null", ScalarStyle.Plain, true, false));
                break;
            default:
                // Numbers keep JSON's own spelling (an int64 stays exact, a decimal keeps its digits).
                emitter.Emit(new Scalar(null, null, value.ToJsonString(), ScalarStyle.Plain, true, false));
                break;
        }
    }

    private static void Text(IEmitter emitter, string s) =>
        emitter.Emit(LooksTyped(s)
            ? new Scalar(null, null, s, ScalarStyle.DoubleQuoted, false, true)
            : new Scalar(null, null, s, ScalarStyle.Any, true, true));

    /// <summary>Whether a plain scalar with this text resolves to something other than a string (YAML 1.1 or 1.2).</summary>
    internal static bool LooksTyped(string s) => s.Length == 0 || TypedScalar().IsMatch(s);

    // null, booleans (1.1's yes/no/on/off/y/n too, as Kubernetes' YAML reader still takes them),
    // integers (decimal, octal, hex, binary, sexagesimal-free), floats, infinities and NaN.
    [GeneratedRegex(@"^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|[-+]?(?:0|[1-9][0-9_]*)|0o?[0-7_]+|0x[0-9a-fA-F_]+|0b[01_]+|[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", RegexOptions.CultureInvariant)]
    private static partial Regex TypedScalar();
}
