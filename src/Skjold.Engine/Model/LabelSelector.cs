using System.Text.Json;

namespace Skjold.Engine.Model;

/// <summary>A Kubernetes label selector: matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist).</summary>
public sealed record LabelSelector(
    IReadOnlyDictionary<string, string> MatchLabels,
    IReadOnlyList<LabelSelectorRequirement> MatchExpressions)
{
    public static LabelSelector Empty { get; } = new(new Dictionary<string, string>(), []);

    /// <summary>True when the selector has no terms (and so selects everything).</summary>
    public bool IsEmpty => MatchLabels.Count == 0 && MatchExpressions.Count == 0;

    /// <summary>Matches a label map held in memory (namespaces and representative pods).</summary>
    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        foreach (var (key, value) in MatchLabels)
        {
            if (!labels.TryGetValue(key, out var actual) || actual != value)
            {
                return false;
            }
        }

        foreach (var req in MatchExpressions)
        {
            var has = labels.TryGetValue(req.Key, out var value);
            if (!Satisfies(req, has, value))
            {
                return false;
            }
        }

        return true;
    }

    public bool Matches(JsonElement labels)
    {
        foreach (var (key, value) in MatchLabels)
        {
            var actual = Json.Get(labels, key);
            if (actual.ValueKind != JsonValueKind.String || !actual.ValueEquals(value))
            {
                return false;
            }
        }

        foreach (var req in MatchExpressions)
        {
            var actual = Json.Get(labels, req.Key);
            var has = actual.ValueKind == JsonValueKind.String;
            var value = has ? actual.GetString() : null;
            if (!Satisfies(req, has, value))
            {
                return false;
            }
        }

        return true;
    }

    private static bool Satisfies(LabelSelectorRequirement req, bool has, string? value) => req.Operator switch
    {
        LabelOperator.In => has && req.Values.Contains(value!, StringComparer.Ordinal),
        LabelOperator.NotIn => !has || !req.Values.Contains(value!, StringComparer.Ordinal),
        LabelOperator.Exists => has,
        LabelOperator.DoesNotExist => !has,
        _ => false,
    };
}
