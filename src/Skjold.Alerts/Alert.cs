using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using Skjold.Alerts.Outputs;
using Skjold.Detection.Falco;

namespace Skjold.Alerts;

/// <summary>
/// One alert on its way to the SIEM: what fired, how severe, the text, and where it came from.
/// <see cref="Id"/> is stable for the same cause (a rule and the sealed leaves it fired on), so a
/// re-evaluation after a restart or a redelivery after a lost connection carries the same id and
/// receivers can drop the duplicate.
/// </summary>
public sealed record Alert
{
    /// <summary>The de-duplication id (32 hex characters).</summary>
    public required string Id { get; init; }

    /// <summary>When the event behind the alert happened (or the alert was raised).</summary>
    public required DateTimeOffset Time { get; init; }

    public required string Rule { get; init; }

    public required FalcoPriority Priority { get; init; }

    /// <summary>The rule's output line, with its fields filled in.</summary>
    public required string Output { get; init; }

    /// <summary>Where the alert came from: <c>k8s_audit</c>, <c>syscall</c> (Falco runtime), <c>skjold</c>.</summary>
    public string Source { get; init; } = FalcoRuleSet.Source;

    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>The leaf indexes, in the audit trail, of the events behind the alert (and of the sealed alert, when known).</summary>
    public IReadOnlyList<long> Leaves { get; init; } = [];

    /// <summary>Context for correlation: user, namespace, resource, name, verb, sourceIP, pod, node...</summary>
    public IReadOnlyDictionary<string, string> Fields { get; init; } = new Dictionary<string, string>();

    /// <summary>Syslog severity of the priority (Falco's priorities are syslog's levels, 0 = emergency).</summary>
    [JsonIgnore]
    public int Severity => (int)Priority;

    /// <summary>The stable id of an alert that <paramref name="rule"/> raised on the given leaves.</summary>
    public static string IdFor(string rule, string source, IEnumerable<long> leaves)
    {
        var text = new StringBuilder(rule).Append('\n').Append(source);
        foreach (var leaf in leaves)
        {
            text.Append('\n').Append(leaf.ToString(CultureInfo.InvariantCulture));
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())).AsSpan(0, 16));
    }

    /// <summary>The stable id of an alert known only by its content (a Falco body without a uuid).</summary>
    public static string IdForContent(string content) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content)).AsSpan(0, 16));
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Alert))]
[JsonSerializable(typeof(List<AlertmanagerAlert>))]
[JsonSerializable(typeof(WebhookBody))]
[JsonSerializable(typeof(HecEvent))]
internal sealed partial class AlertsJsonContext : JsonSerializerContext;
