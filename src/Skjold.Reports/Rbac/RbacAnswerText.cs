using System.Text.Json;
using System.Text.Json.Serialization;
using Skjold.Engine.Rbac;
using Spectre.Console;

namespace Skjold.Reports.Rbac;

/// <summary>The views of <c>rbac who-can</c>, <c>can</c> and <c>paths</c>: a table for people, JSON for tools.</summary>
public static class RbacAnswerText
{
    public static void WriteJson(TextWriter output, List<GrantRow> rows) =>
        output.WriteLine(JsonSerializer.Serialize(rows, RbacJsonContext.Default.ListGrantRow));

    public static void WriteJson(TextWriter output, List<PathRow> rows) =>
        output.WriteLine(JsonSerializer.Serialize(rows, RbacJsonContext.Default.ListPathRow));

    /// <summary>
    /// Why a namespace given with who-can does not narrow the answer: the resource is cluster-scoped or the request is
    /// for a non-resource URL, so only ClusterRoleBindings grant it. Null when the namespace applies (or none was given).
    /// </summary>
    public static string? NamespaceNote(RbacQuery query, string? ns) =>
        ns is not null && (!query.Namespaced || !query.Request.IsResourceRequest)
            ? $"{(query.Request.IsResourceRequest ? query.Resource?.Display + " is cluster-scoped" : "non-resource URLs are not namespaced")}; only ClusterRoleBindings grant it, so the namespace does not narrow the answer"
            : null;

    public static void WriteWhoCan(TextTarget target, RbacModel model, RbacQuery query, IReadOnlyList<GrantRow> rows)
    {
        var question = query.Request.ToString() + (query.AnyNamespace ? " (in any namespace)" : string.Empty);
        var table = target.NewTable("Subject", "Scope", "Binding", "Rule");
        foreach (var r in rows)
        {
            table.AddRow(new Text(r.Subject), new Text(r.Scope), new Text(r.Binding), new Text(r.Rule));
        }

        var console = target.Console();
        console.MarkupLine($"[bold]{rows.Select(r => r.Subject).Distinct().Count()} subjects may {Markup.Escape(question)}[/] (Kubernetes 1.{model.KubeMinor})");
        console.Write(table);
        WriteBootstrapNote(target.Out, model);
    }

    /// <summary><paramref name="identity"/> names the subject as asked and the user and groups it was resolved to.</summary>
    public static void WriteCan(TextTarget target, RbacModel model, string identity, IReadOnlyList<GrantRow> rows)
    {
        if (rows.Count == 0)
        {
            target.Out.WriteLine($"{identity} holds no RBAC permissions in the input.");
            return;
        }

        var table = target.NewTable("Rule", "Scope", "Through", "Binding");
        foreach (var r in rows)
        {
            table.AddRow(new Text(r.Rule + (r.Effective ? string.Empty : " (no effect: a RoleBinding grants no cluster-scoped resource (but its own namespace) or URL)")), new Text(r.Scope), new Text(r.Subject), new Text(r.Binding));
        }

        var console = target.Console();
        console.MarkupLine($"[bold]{Markup.Escape(identity)} may:[/]");
        console.Write(table);
        WriteBootstrapNote(target.Out, model);
    }

    /// <summary><paramref name="start"/> is the subject asked about, or null when every subject (<paramref name="examined"/> of them) was.</summary>
    public static void WritePaths(TextTarget target, RbacModel model, IReadOnlyList<PathRow> results, RbacSubject? start, int examined)
    {
        if (results.Count == 0)
        {
            target.Out.WriteLine(start is null
                ? $"No escalation path found for {examined} subjects."
                : $"No escalation path found for {start}.");
            return;
        }

        var console = target.Console();
        foreach (var r in results)
        {
            console.MarkupLine($"[bold]{Markup.Escape(r.Subject)}[/] => [red]{Markup.Escape(r.Goal)}[/]");
            var i = 1;
            foreach (var st in r.Steps)
            {
                var becomes = st.To is null ? string.Empty : $" -> acts as {st.To}";
                console.WriteLine($"  {i++}. {st.Action}{becomes}");
                console.MarkupLine($"     [grey]via {Markup.Escape(st.Via)}, {Markup.Escape(st.Rule)}[/]");
            }

            console.WriteLine();
        }

        WriteBootstrapNote(target.Out, model);
    }

    private static void WriteBootstrapNote(TextWriter output, RbacModel model)
    {
        if (model.BootstrapRolesUsed.Count > 0)
        {
            output.WriteLine($"Roles from Kubernetes' bootstrap policy (the input does not define them): {string.Join(", ", model.BootstrapRolesUsed)}.");
        }
    }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(List<GrantRow>))]
[JsonSerializable(typeof(List<PathRow>))]
internal sealed partial class RbacJsonContext : JsonSerializerContext;
