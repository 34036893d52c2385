using Skjold.Engine.Model;

namespace Skjold.Engine.Rbac;

/// <summary>One grant as who-can and can report it.</summary>
public sealed record GrantRow(string Subject, string SubjectKind, string SubjectName, string? SubjectNamespace, string Scope, string Binding, string Rule, bool Bootstrap, bool Effective);

/// <summary>One hop of an escalation path.</summary>
public sealed record PathStep(string From, string Action, string? To, string Via, string Rule);

/// <summary>A subject's way to a cluster-compromising permission.</summary>
public sealed record PathRow(string Subject, string Goal, IReadOnlyList<PathStep> Steps);

/// <summary>
/// The answers of <c>rbac who-can</c>, <c>can</c> and <c>paths</c> as rows, in the order they are
/// shown: every host (CLI, dashboard, reports) prints the same rows.
/// </summary>
public static class RbacAnswers
{
    /// <summary>The API server authorizes members of system:masters before asking RBAC.</summary>
    public static GrantRow MastersRow { get; } =
        new("Group system:masters", RbacSubject.Group, RbacUser.Masters, null, "cluster-wide", "(none: the API server allows system:masters every request before RBAC is asked)", "everything", true, true);

    /// <summary>Every subject that may make the request, system:masters first, then by kind, namespace and name.</summary>
    public static List<GrantRow> WhoCan(RbacModel model, RbacQuery query)
    {
        var rows = new List<GrantRow> { MastersRow };
        rows.AddRange(model.WhoCan(query)
            .OrderBy(g => g.Subject.Kind, StringComparer.Ordinal).ThenBy(g => g.Subject.Namespace, StringComparer.Ordinal).ThenBy(g => g.Subject.Name, StringComparer.Ordinal)
            .Select(g => Row(g, model)).DistinctBy(r => (r.Subject, r.Scope, r.Binding)));
        return rows;
    }

    /// <summary>Everything the user may do (cluster-wide grants first), limited to one namespace's grants and cluster-wide ones when <paramref name="inNamespace"/> is given.</summary>
    public static List<GrantRow> Can(RbacModel model, RbacUser user, string? inNamespace)
    {
        var rows = new List<GrantRow>();
        if (user.IsPrivileged)
        {
            rows.Add(MastersRow);
        }

        rows.AddRange(model.GrantsOf(user)
            .Where(g => inNamespace is null || g.Namespace is null || g.Namespace == inNamespace)
            .OrderBy(g => g.Namespace is null ? 0 : 1).ThenBy(g => g.Namespace, StringComparer.Ordinal)
            .Select(g => Row(g, model)).Distinct());
        return rows;
    }

    /// <summary>
    /// The escalation path of <paramref name="start"/>, or of every subject outside the control
    /// plane when it is null; <paramref name="examined"/> is how many subjects were searched.
    /// </summary>
    public static List<PathRow> Paths(RbacModel model, IReadOnlyList<Resource> resources, string defaultNamespace, RbacSubject? start, out int examined)
    {
        var finder = new EscalationFinder(model, resources, defaultNamespace);
        var subjects = start is not null
            ? [start]
            : model.Subjects().Where(s => !s.IsPlatform).OrderBy(s => s.ToString(), StringComparer.Ordinal).ToList();
        examined = subjects.Count;
        var results = new List<PathRow>();
        foreach (var s in subjects)
        {
            if (finder.Goal(s) is { } direct)
            {
                results.Add(new PathRow(s.ToString(), direct.Goal, [new PathStep(s.ToString(), $"{s} {direct.Goal} directly", null, direct.Grant.Via, direct.Grant.RuleText)]));
            }
            else if (finder.Find(s) is { } path)
            {
                results.Add(new PathRow(s.ToString(), path.Goal, path.Steps.Select(st => new PathStep(st.From.ToString(), st.Action, st.To?.ToString(), st.Grant.Via, st.Grant.RuleText)).ToList()));
            }
        }

        return results;
    }

    private static GrantRow Row(RbacGrant g, RbacModel model) =>
        new(g.Subject.ToString(), g.Subject.Kind, g.Subject.Name, g.Subject.Namespace, g.Scope, g.Via, g.RuleText, g.RoleFromBootstrap || g.BindingFromBootstrap, g.CanAllowAnything(model.Api));
}
