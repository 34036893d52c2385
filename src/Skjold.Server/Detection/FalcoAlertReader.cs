using System.Globalization;
using System.Text;
using System.Text.Json;
using Skjold.Alerts;
using Skjold.Detection.Falco;

namespace Skjold.Server.Detection;

/// <summary>
/// Reads Falco's JSON output (what <c>http_output</c> posts, and falcosidekick receives): one object,
/// or an array of them, with <c>rule</c>, <c>priority</c>, <c>output</c> and <c>time</c>, and optional
/// <c>output_fields</c>, <c>source</c>, <c>tags</c>, <c>hostname</c> and <c>uuid</c>. The pod, namespace,
/// node, container and user it names are kept for correlation with the audit trail.
/// </summary>
public static class FalcoAlertReader
{
    /// <summary>The field names of Falco's outputs Skjold links alerts by, and what it calls them.</summary>
    private static readonly (string Falco, string Name)[] Links =
    [
        ("k8s.ns.name", "namespace"), ("k8s.pod.name", "pod"), ("container.id", "container"), ("container.image.repository", "image"),
        ("container.image.tag", "imageTag"), ("proc.name", "process"), ("user.name", "processUser"), ("ka.user.name", "user"),
        ("ka.target.namespace", "namespace"), ("ka.target.name", "name"), ("ka.target.resource", "resource"), ("ka.verb", "verb"),
        ("k8s.node.name", "node"),
    ];

    /// <summary>The alerts of a body, or a message saying what is wrong with it (for a 400).</summary>
    public static (IReadOnlyList<Alert> Alerts, string? Error) Read(ReadOnlySpan<byte> body, int maxAlerts = 1000)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            return ([], $"not JSON: {ex.Message}");
        }

        using (doc)
        {
            var items = doc.RootElement.ValueKind switch
            {
                JsonValueKind.Object => [doc.RootElement],
                JsonValueKind.Array => doc.RootElement.EnumerateArray().ToList(),
                _ => null,
            };
            if (items is null || items.Count == 0)
            {
                return ([], "expected a Falco alert object (or an array of them) with rule, priority, output and time");
            }

            if (items.Count > maxAlerts)
            {
                return ([], $"{items.Count} alerts in one body; at most {maxAlerts}");
            }

            var alerts = new List<Alert>(items.Count);
            for (var i = 0; i < items.Count; i++)
            {
                if (ReadOne(items[i], out var alert) is { } error)
                {
                    return ([], items.Count == 1 ? error : $"alert {i}: {error}");
                }

                alerts.Add(alert!);
            }

            return (alerts, null);
        }
    }

    private static string? ReadOne(JsonElement e, out Alert? alert)
    {
        alert = null;
        if (e.ValueKind != JsonValueKind.Object)
        {
            return "expected an object";
        }

        if (Text(e, "rule") is not { Length: > 0 } rule)
        {
            return "'rule' is missing";
        }

        if (Text(e, "output") is not { } output)
        {
            return "'output' is missing";
        }

        if (Text(e, "priority") is not { } priorityText || !TryPriority(priorityText, out var priority))
        {
            return $"'priority' must be one of Emergency, Alert, Critical, Error, Warning, Notice, Informational, Debug";
        }

        if (Text(e, "time") is not { } timeText || !TryTime(timeText, out var time))
        {
            return "'time' must be an RFC 3339 time";
        }

        var tags = new List<string>();
        if (e.TryGetProperty("tags", out var t))
        {
            if (t.ValueKind != JsonValueKind.Array || t.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.String))
            {
                return "'tags' must be a list of strings";
            }

            tags.AddRange(t.EnumerateArray().Select(x => x.GetString()!));
        }

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        if (e.TryGetProperty("output_fields", out var of))
        {
            if (of.ValueKind != JsonValueKind.Object)
            {
                return "'output_fields' must be an object";
            }

            foreach (var (falco, name) in Links)
            {
                if (of.TryGetProperty(falco, out var v) && Scalar(v) is { Length: > 0 } s && !fields.ContainsKey(name))
                {
                    fields[name] = s;
                }
            }
        }

        if (Text(e, "hostname") is { Length: > 0 } host)
        {
            fields.TryAdd("node", host);
        }

        var source = Text(e, "source") is { Length: > 0 } src ? src : "syscall";
        var id = Text(e, "uuid") is { } uuid && Guid.TryParse(uuid, out var g)
            ? Convert.ToHexStringLower(g.ToByteArray())
            : Alert.IdForContent($"{rule}\n{source}\n{timeText}\n{output}");
        alert = new Alert
        {
            Id = id,
            Time = time,
            Rule = rule,
            Priority = priority,
            Output = output,
            Source = source,
            Tags = tags,
            Fields = fields,
        };
        return null;
    }

    /// <summary>RFC 3339 with Falco's nanoseconds (.NET reads at most 7 fractional digits).</summary>
    internal static bool TryTime(string text, out DateTimeOffset time)
    {
        var m = System.Text.RegularExpressions.Regex.Match(text, @"^(?<head>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.(?<frac>[0-9]{1,9}))?(?<zone>Z|[+-][0-9]{2}:[0-9]{2})$",
            System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50));
        time = default;
        if (!m.Success)
        {
            return false;
        }

        var frac = m.Groups["frac"].Success ? "." + m.Groups["frac"].Value[..Math.Min(7, m.Groups["frac"].Length)] : "";
        return DateTimeOffset.TryParse(m.Groups["head"].Value + frac + m.Groups["zone"].Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time);
    }

    private static bool TryPriority(string text, out FalcoPriority priority)
    {
        var normal = text.Equals("info", StringComparison.OrdinalIgnoreCase) ? "Informational" : text;
        return Enum.TryParse(normal, ignoreCase: true, out priority) && Enum.IsDefined(priority) && !char.IsDigit(normal[0]) && normal[0] != '-';
    }

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string? Scalar(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString(),
        JsonValueKind.Number => v.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };

    /// <summary>Truncates text for a log line or an error message.</summary>
    internal static string Short(string s) => s.Length <= 200 ? s : string.Concat(s.AsSpan(0, 200), "...");

    internal static string Utf8(ReadOnlySpan<byte> b) => Encoding.UTF8.GetString(b);
}
