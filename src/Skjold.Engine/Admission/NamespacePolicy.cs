using System.Text.Json;
using Skjold.Engine.Model;
using Skjold.Engine.Pss;

namespace Skjold.Engine.Admission;

/// <summary>
/// What a namespace asks for: Pod Security modes from its <c>pod-security.kubernetes.io/</c>
/// labels (falling back to the configured defaults), and whether it opted into mutation.
/// </summary>
public sealed record NamespacePolicy(string Name, PssMode Enforce, PssMode Audit, PssMode Warn, bool Mutate, IReadOnlyList<string> LabelErrors)
{
    public const string LabelPrefix = "pod-security.kubernetes.io/";

    public static NamespacePolicy From(string name, IReadOnlyDictionary<string, string>? labels, AdmissionSettings settings)
    {
        var errors = new List<string>();
        labels ??= new Dictionary<string, string>();
        var enforce = Mode(labels, "enforce", settings.DefaultEnforce, errors);
        var audit = Mode(labels, "audit", settings.DefaultAudit, errors);
        var warn = Mode(labels, "warn", settings.DefaultWarn, errors);
        var mutate = labels.TryGetValue(settings.MutationLabel, out var m) && m == "enabled";
        return new NamespacePolicy(name, enforce, audit, warn, mutate, errors);
    }

    /// <summary>Reads a Namespace object's labels.</summary>
    public static Dictionary<string, string> Labels(JsonElement ns)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var labels = Json.Get(Json.Get(ns, "metadata"u8), "labels"u8);
        if (labels.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in labels.EnumerateObject())
            {
                if (p.Value.ValueKind == JsonValueKind.String)
                {
                    result[p.Name] = p.Value.GetString()!;
                }
            }
        }

        return result;
    }

    private static PssMode Mode(IReadOnlyDictionary<string, string> labels, string mode, PssMode fallback, List<string> errors)
    {
        var level = fallback.Level;
        var version = fallback.Version;
        if (labels.TryGetValue(LabelPrefix + mode, out var l))
        {
            // Like Pod Security Admission, an invalid level is treated as the most restrictive.
            if (!PssLevels.TryParse(l, out level))
            {
                errors.Add($"{LabelPrefix}{mode}: '{l}' is not a level; using restricted");
                level = PssLevel.Restricted;
            }

            version = PssVersion.Latest;
        }

        if (labels.TryGetValue(LabelPrefix + mode + "-version", out var v))
        {
            if (!PssVersion.TryParse(v, out version))
            {
                errors.Add($"{LabelPrefix}{mode}-version: '{v}' is not a version; using latest");
                version = PssVersion.Latest;
            }
        }

        return new PssMode(level, version);
    }
}
