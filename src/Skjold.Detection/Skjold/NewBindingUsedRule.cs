using System.Globalization;
using System.Text.Json;
using Skjold.Detection.Falco;

namespace Skjold.Detection.Skjold;

/// <summary>
/// A new RoleBinding or ClusterRoleBinding, then its subject using the permission it grants within the
/// window: the two steps of privilege escalation through RBAC. The role's rules are taken from the
/// role's own create or update events in the stream when seen (Request level or above); a role not
/// seen counts any successful request by the subject in the binding's scope.
/// </summary>
public sealed class NewBindingUsedRule(TimeSpan within) : StatefulRule
{
    private readonly Dictionary<string, List<RbacRule>> _roles = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Grant> _grants = new(StringComparer.Ordinal);

    public override string Name => "Skjold new binding used";

    public override string Description => $"a new (Cluster)RoleBinding whose subject uses the permission within {within}";

    public override FalcoPriority Priority => FalcoPriority.Warning;

    public override IReadOnlyList<string> Tags { get; } = ["skjold", "k8s", "mitre_privilege_escalation", "T1098", "iso27001:5.18", "iso27001:8.2", "pci-dss:7.2.4", "nis2:21.2.i"];

    private sealed record RbacRule(IReadOnlyList<string> Verbs, IReadOnlyList<string> ApiGroups, IReadOnlyList<string> Resources, IReadOnlyList<string> Names);

    private sealed record Grant(string Binding, string? Namespace, string RoleKey, string Subject, string SubjectKind, DateTimeOffset At);

    internal override FalcoAlert? Observe(AuditFacts e, DateTimeOffset now)
    {
        if (e.Stage is "RequestReceived")
        {
            return null;
        }

        if (e.Succeeded && e.Verb is "create" or "update" or "patch" && e.Resource is "roles" or "clusterroles" && RequestObject(e) is { } role)
        {
            var key = RoleKey(e.Resource == "roles" ? "Role" : "ClusterRole", e.Resource == "roles" ? e.Namespace : null, e.Name ?? Str(Meta(role), "name"));
            if (key is not null)
            {
                _roles[key] = Rules(role);
                Bound(_roles, _ => DateTimeOffset.MinValue, now);
            }

            return null;
        }

        if (e.Succeeded && e.Verb == "create" && e.Resource is "rolebindings" or "clusterrolebindings" && RequestObject(e) is { } binding)
        {
            var ns = e.Resource == "rolebindings" ? e.Namespace : null;
            var name = e.Name ?? Str(Meta(binding), "name") ?? "?";
            if (!binding.TryGetProperty("roleRef", out var roleRef) || !binding.TryGetProperty("subjects", out var subjects) || subjects.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var roleKind = Str(roleRef, "kind") ?? "ClusterRole";
            var roleKey = RoleKey(roleKind, roleKind == "Role" ? ns : null, Str(roleRef, "name"));
            foreach (var s in subjects.EnumerateArray())
            {
                var kind = Str(s, "kind");
                var subject = kind switch
                {
                    "ServiceAccount" => $"system:serviceaccount:{Str(s, "namespace") ?? ns}:{Str(s, "name")}",
                    "User" or "Group" => Str(s, "name"),
                    _ => null,
                };
                if (subject is not null && roleKey is not null)
                {
                    _grants[$"{kind}|{subject}|{e.Resource}|{ns}|{name}"] = new Grant($"{(ns is null ? "clusterrolebinding" : "rolebinding " + ns + "/")}{name}", ns, roleKey, subject, kind!, now);
                }
            }

            Bound(_grants, g => g.At, now - within);
            return null;
        }

        if (_grants.Count == 0 || !e.Succeeded || e.User is null)
        {
            return null;
        }

        foreach (var (key, g) in _grants)
        {
            if (now - g.At > within)
            {
                continue;
            }

            var holds = g.SubjectKind == "Group" ? e.Groups.Contains(g.Subject, StringComparer.Ordinal) : e.User == g.Subject;
            if (!holds || (g.Namespace is not null && e.Namespace != g.Namespace))
            {
                continue;
            }

            var known = _roles.TryGetValue(g.RoleKey, out var rules);
            if (known && !AllowsAny(rules!, e))
            {
                continue;
            }

            _grants.Remove(key); // reported once per binding and subject
            var age = (now - g.At).TotalMinutes.ToString("0.#", CultureInfo.InvariantCulture);
            return Alert($"{e.User} used {g.Binding} ({g.RoleKey}) {age} min after it was created: {e.Verb} {e.Resource}{(e.Subresource is null ? "" : "/" + e.Subresource)} {e.Namespace}/{e.Name}{(known ? "" : " (the role's rules were not seen; any request counts)")}");
        }

        return null;
    }

    private static bool AllowsAny(List<RbacRule> rules, AuditFacts e)
    {
        foreach (var r in rules)
        {
            if (Allows(r, e))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Allows(RbacRule r, AuditFacts e)
    {
        var resource = e.Subresource is null ? e.Resource : $"{e.Resource}/{e.Subresource}";
        return (r.Verbs.Contains("*") || r.Verbs.Contains(e.Verb ?? ""))
            && (r.ApiGroups.Contains("*") || r.ApiGroups.Contains(e.ApiGroup ?? ""))
            && (r.Resources.Contains("*") || r.Resources.Contains(resource ?? "") || (e.Subresource is not null && r.Resources.Contains($"*/{e.Subresource}")))
            && (r.Names.Count == 0 || (e.Name is not null && r.Names.Contains(e.Name)));
    }

    private static List<RbacRule> Rules(JsonElement role)
    {
        var list = new List<RbacRule>();
        if (role.TryGetProperty("rules", out var rules) && rules.ValueKind == JsonValueKind.Array)
        {
            foreach (var r in rules.EnumerateArray())
            {
                list.Add(new RbacRule(Strings(r, "verbs"), Strings(r, "apiGroups"), Strings(r, "resources"), Strings(r, "resourceNames")));
            }
        }

        return list;
    }

    private static List<string> Strings(JsonElement o, string name) =>
        o.TryGetProperty(name, out var a) && a.ValueKind == JsonValueKind.Array ? [.. a.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!)] : [];

    private static JsonElement? RequestObject(AuditFacts e) =>
        e.Event.TryGetProperty("requestObject", out var r) && r.ValueKind == JsonValueKind.Object ? r
        : e.Event.TryGetProperty("responseObject", out var s) && s.ValueKind == JsonValueKind.Object ? s : null;

    private static JsonElement Meta(JsonElement o) => o.TryGetProperty("metadata", out var m) ? m : default;

    private static string? Str(JsonElement o, string name) => o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string? RoleKey(string kind, string? ns, string? name) => name is null ? null : ns is null ? $"{kind} {name}" : $"{kind} {ns}/{name}";
}
