using System.Globalization;
using Skjold.Audit.Storage;

namespace Skjold.Audit.Query;

/// <summary>
/// The questions an investigator asks by name, as filters, and the time forms queries accept. The
/// command line and the HTTP API both build their queries here.
/// </summary>
public static class AuditQuestions
{
    /// <summary>Who read the secret NAMESPACE/NAME: get of it, and list or watch of secrets in its namespace.</summary>
    public static AuditQuery WhoReadSecret(AuditQuery q, string namespaceSlashName)
    {
        var parts = namespaceSlashName.Split('/');
        if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
        {
            throw new FormatException($"who-read-secret takes NAMESPACE/NAME, not '{namespaceSlashName}'");
        }

        return q with { Resource = "secrets", Namespace = parts[0], Name = parts[1], IncludeCollection = true, Verbs = ["get", "list", "watch"] };
    }

    /// <summary>Everything a user did.</summary>
    public static AuditQuery ActivityOf(AuditQuery q, string user) => q with { User = user };

    /// <summary>pods/exec, pods/attach and pods/portforward sessions.</summary>
    public static AuditQuery ExecSessions(AuditQuery q) => q with { Resource = "pods", Subresources = ["exec", "attach", "portforward"] };

    /// <summary>Requests refused with 401 or 403.</summary>
    public static AuditQuery Denied(AuditQuery q) => q with { Codes = [401, 403] };

    /// <summary>Creates, updates, patches and deletes of RBAC objects.</summary>
    public static AuditQuery RbacChanges(AuditQuery q) =>
        q with { ApiGroup = "rbac.authorization.k8s.io", Verbs = ["create", "update", "patch", "delete", "deletecollection"] };

    /// <summary>
    /// A time as RFC 3339, a date, or a duration back from <paramref name="now"/> (30m, 24h, 7d);
    /// null for empty text. <paramref name="name"/> names the filter in the error.
    /// </summary>
    public static DateTimeOffset? ParseTime(string? text, string name, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var t = text.Trim();
        if (t.Length > 1 && char.IsAsciiLetter(t[^1]) && int.TryParse(t[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            var span = t[^1] switch
            {
                'm' => TimeSpan.FromMinutes(n),
                'h' => TimeSpan.FromHours(n),
                'd' => TimeSpan.FromDays(n),
                _ => throw new FormatException($"{name}: '{text}' is not a duration (use m, h or d)"),
            };
            return now - span;
        }

        return DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : throw new FormatException($"{name}: '{text}' is not a time; use RFC 3339 (2026-11-24T10:00:00Z), a date, or a duration such as 24h");
    }
}
