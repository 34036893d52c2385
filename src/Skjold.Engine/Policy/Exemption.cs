using Skjold.Engine.Model;

namespace Skjold.Engine.Policy;

/// <summary>
/// An exemption from skjold.yaml: which checks, for which resources (namespace, kind, name, labels;
/// every given criterion must match), why, and until when. Patterns end in <c>*</c> to match a prefix.
/// </summary>
public sealed record Exemption(
    IReadOnlyList<string> Checks,
    IReadOnlyList<string> Namespaces,
    IReadOnlyList<string> Kinds,
    IReadOnlyList<string> Names,
    LabelSelector? Selector,
    string Reason,
    DateOnly? Expires,
    SourceLocation? Location)
{
    public bool IsExpired(DateTimeOffset now) => Expires is { } e && DateOnly.FromDateTime(now.UtcDateTime) > e;

    public bool Covers(string checkId, Resource resource)
    {
        if (!AnyMatch(Checks, checkId))
        {
            return false;
        }

        if (Namespaces.Count > 0 && !AnyMatch(Namespaces, resource.Ref.Namespace ?? string.Empty))
        {
            return false;
        }

        if (Kinds.Count > 0 && !AnyMatch(Kinds, resource.Ref.Kind))
        {
            return false;
        }

        if (Names.Count > 0 && !AnyMatch(Names, resource.Ref.Name))
        {
            return false;
        }

        return Selector is null || Selector.Matches(Json.Get(Json.Get(resource.Root, "metadata"u8), "labels"u8));
    }

    internal static bool AnyMatch(IReadOnlyList<string> patterns, string value)
    {
        foreach (var p in patterns)
        {
            if (Glob(p, value))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A name pattern as exemptions use it: exact, "*" for any, or a prefix ending in "*".</summary>
    public static bool Glob(string pattern, string value) =>
        pattern == "*"
        || (pattern.EndsWith('*') ? value.StartsWith(pattern[..^1], StringComparison.Ordinal) : string.Equals(pattern, value, StringComparison.Ordinal));
}
