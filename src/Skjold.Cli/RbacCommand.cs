using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Skjold.Engine.Model;
using Skjold.Engine.Rbac;
using Skjold.Kubernetes.Loading;
using Spectre.Console;

namespace Skjold.Cli;

/// <summary><c>skjold rbac</c>: who-can, can and escalation paths over a snapshot, manifests or the live cluster.</summary>
internal static class RbacCommand
{
    public static Command Create(CliContext context)
    {
        var rbac = new Command("rbac", "Answer RBAC questions from a snapshot, manifests or the live cluster: who-can, can, paths.");
        rbac.Subcommands.Add(WhoCan(context));
        rbac.Subcommands.Add(Can(context));
        rbac.Subcommands.Add(Paths(context));
        return rbac;
    }

    /// <summary>The inputs every rbac subcommand shares: PATH..., --cluster, --format.</summary>
    private sealed class Inputs
    {
        public Argument<string[]> PathArgument { get; } = new("PATH")
        {
            Description = "Snapshot files, manifests or directories holding the RBAC objects (or --cluster)",
            Arity = ArgumentArity.ZeroOrMore,
        };

        public Option<bool> Live { get; } = new("--cluster") { Description = "Read RBAC from the live cluster instead of files" };

        public Option<string> Format { get; } = new("--format", "-f") { Description = "Output format: table or json", DefaultValueFactory = _ => "table" };

        public ClusterOptions Cluster { get; } = new();

        public void AddTo(Command c, bool withPaths = true)
        {
            Format.AcceptOnlyFromAmong("table", "json");
            if (withPaths)
            {
                c.Arguments.Add(PathArgument);
            }

            c.Options.Add(Live);
            c.Options.Add(Format);
            Cluster.AddTo(c);
        }

        public async Task<IReadOnlyList<Resource>?> LoadAsync(ParseResult parse, IReadOnlyList<string> paths, CliContext context, CancellationToken ct)
        {
            if (parse.GetValue(Live))
            {
                if (paths.Count > 0)
                {
                    await context.Error.WriteLineAsync("error: give either --cluster or paths, not both").ConfigureAwait(false);
                    return null;
                }

                return (await Cluster.TryReadAsync(parse, context, ct).ConfigureAwait(false))?.Resources;
            }

            if (paths.Count == 0)
            {
                await context.Error.WriteLineAsync("error: give a snapshot, manifests or --cluster").ConfigureAwait(false);
                return null;
            }

            return InputFiles.Load(paths, context);
        }
    }

    private static Command WhoCan(CliContext context)
    {
        var inputs = new Inputs();
        var verb = new Argument<string>("VERB") { Description = "get, list, watch, create, update, patch, delete, bind, escalate, impersonate, ... or *" };
        var resource = new Argument<string>("RESOURCE") { Description = "Resource, optionally with subresource and group: pods, pods/exec, deployments.apps, clusterroles.rbac.authorization.k8s.io" };
        var ns = new Option<string?>("--namespace", "-n") { Description = "Only grants that apply in this namespace (cluster-wide grants included)" };
        var name = new Option<string?>("--name") { Description = "A specific object name (rules limited by resourceNames match only it)" };
        var sub = new Option<string?>("--subresource") { Description = "Subresource, for example exec, log, proxy, token" };
        var command = new Command("who-can", "List every subject that may perform VERB on RESOURCE, with the binding and rule that allow it.\nExit codes: 0 answered, 2 usage or input error.")
        {
            verb, resource, ns, name, sub,
        };
        inputs.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var resources = await inputs.LoadAsync(parse, parse.GetValue(inputs.PathArgument) ?? [], context, ct).ConfigureAwait(false);
            if (resources is null)
            {
                return ExitCodes.UsageOrInputError;
            }

            var (res, subresource, group) = SplitResource(parse.GetValue(resource)!, parse.GetValue(sub));
            var model = RbacModel.Build(resources);
            var grants = model.WhoCan(parse.GetValue(verb)!, res, subresource, parse.GetValue(ns), parse.GetValue(name), group)
                .OrderBy(g => g.Subject.Kind, StringComparer.Ordinal).ThenBy(g => g.Subject.Namespace, StringComparer.Ordinal).ThenBy(g => g.Subject.Name, StringComparer.Ordinal)
                .ToList();
            var rows = grants.Select(Row).DistinctBy(r => (r.Subject, r.Scope, r.Binding)).ToList();
            if (parse.GetValue(inputs.Format) == "json")
            {
                Write(context, rows, RbacJsonContext.Default.ListGrantRow);
                return ExitCodes.Ok;
            }

            var question = $"{parse.GetValue(verb)} {res}{(subresource is null ? string.Empty : "/" + subresource)}{(group is { Length: > 0 } ? "." + group : string.Empty)}" +
                $"{(parse.GetValue(name) is { } n ? " named " + n : string.Empty)}{(parse.GetValue(ns) is { } nn ? " in namespace " + nn : string.Empty)}";
            if (rows.Count == 0)
            {
                await context.Out.WriteLineAsync($"No subject may {question}.").ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            var table = NewTable("Subject", "Scope", "Binding", "Rule");
            foreach (var r in rows)
            {
                table.AddRow(Text(r.Subject), Text(r.Scope), Text(r.Binding), Text(r.Rule));
            }

            var console = Console(context);
            console.MarkupLine($"[bold]{rows.Select(r => r.Subject).Distinct().Count()} subjects may {Markup.Escape(question)}[/]");
            console.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Can(CliContext context)
    {
        var inputs = new Inputs();
        var subject = new Argument<string>("SUBJECT") { Description = "user:NAME, group:NAME, sa:NAMESPACE/NAME or system:serviceaccount:NS:NAME (a bare name is a user)" };
        var ns = new Option<string?>("--namespace", "-n") { Description = "Only grants that apply in this namespace (cluster-wide grants included)" };
        var command = new Command("can", "List everything SUBJECT may do, directly and through its groups (including the implicit system:authenticated and system:serviceaccounts groups).\nExit codes: 0 answered, 2 usage or input error.")
        {
            subject, ns,
        };
        inputs.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            if (!TryParseSubject(parse.GetValue(subject)!, context, out var s))
            {
                return ExitCodes.UsageOrInputError;
            }

            var resources = await inputs.LoadAsync(parse, parse.GetValue(inputs.PathArgument) ?? [], context, ct).ConfigureAwait(false);
            if (resources is null)
            {
                return ExitCodes.UsageOrInputError;
            }

            var model = RbacModel.Build(resources);
            var filter = parse.GetValue(ns);
            var rows = model.GrantsOf(s)
                .Where(g => filter is null || g.Namespace is null || g.Namespace == filter)
                .OrderBy(g => g.Namespace is null ? 0 : 1).ThenBy(g => g.Namespace, StringComparer.Ordinal)
                .Select(Row).Distinct().ToList();
            if (parse.GetValue(inputs.Format) == "json")
            {
                Write(context, rows, RbacJsonContext.Default.ListGrantRow);
                return ExitCodes.Ok;
            }

            if (rows.Count == 0)
            {
                await context.Out.WriteLineAsync($"{s} holds no RBAC permissions in the input.").ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            var table = NewTable("Rule", "Scope", "Through", "Binding");
            foreach (var r in rows)
            {
                table.AddRow(Text(r.Rule), Text(r.Scope), Text(r.Subject), Text(r.Binding));
            }

            var console = Console(context);
            console.MarkupLine($"[bold]{Markup.Escape(s.ToString())} may:[/]");
            console.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Paths(CliContext context)
    {
        var inputs = new Inputs();
        var args = new Argument<string[]>("[SUBJECT] PATH")
        {
            Description = "An optional subject (user:NAME, group:NAME, sa:NS/NAME) followed by snapshot files, manifests or directories",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = new Command("paths", "Find privilege escalation paths: how a subject (or every non-system subject) reaches a cluster-compromising permission, hop by hop.\nExit codes: 0 no path, 1 paths found, 2 usage or input error.")
        {
            args,
        };
        inputs.AddTo(command, withPaths: false);
        command.SetAction(async (parse, ct) =>
        {
            var given = parse.GetValue(args) ?? [];
            RbacSubject? start = null;
            var paths = given.ToList();
            var live = parse.GetValue(inputs.Live);
            if (paths.Count > 0 && (live || (!File.Exists(Path.GetFullPath(paths[0], context.WorkingDirectory)) && !Directory.Exists(Path.GetFullPath(paths[0], context.WorkingDirectory)) && paths[0] != ManifestLoader.StdinName)))
            {
                if (!TryParseSubject(paths[0], context, out var s))
                {
                    return ExitCodes.UsageOrInputError;
                }

                start = s;
                paths.RemoveAt(0);
            }

            var resources = await inputs.LoadAsync(parse, paths, context, ct).ConfigureAwait(false);
            if (resources is null)
            {
                return ExitCodes.UsageOrInputError;
            }

            var model = RbacModel.Build(resources);
            var finder = new EscalationFinder(model, resources);
            var subjects = start is not null
                ? [start]
                : model.Subjects().Where(s => !s.IsPlatform).OrderBy(s => s.ToString(), StringComparer.Ordinal).ToList();
            var results = new List<PathRow>();
            foreach (var s in subjects)
            {
                if (finder.Goal(s) is { } direct)
                {
                    results.Add(new PathRow(s.ToString(), direct.Goal, [new PathStep(s.ToString(), $"{s} {direct.Goal} directly", null, direct.Grant.Via)]));
                }
                else if (finder.Find(s) is { } path)
                {
                    results.Add(new PathRow(s.ToString(), path.Goal, path.Steps.Select(st => new PathStep(st.From.ToString(), st.Action, st.To?.ToString(), st.Grant.Via)).ToList()));
                }
            }

            if (parse.GetValue(inputs.Format) == "json")
            {
                Write(context, results, RbacJsonContext.Default.ListPathRow);
            }
            else if (results.Count == 0)
            {
                await context.Out.WriteLineAsync(start is null
                    ? $"No escalation path found for {subjects.Count} subjects."
                    : $"No escalation path found for {start}.").ConfigureAwait(false);
            }
            else
            {
                var console = Console(context);
                foreach (var r in results)
                {
                    console.MarkupLine($"[bold]{Markup.Escape(r.Subject)}[/] => [red]{Markup.Escape(r.Goal)}[/]");
                    var i = 1;
                    foreach (var st in r.Steps)
                    {
                        var becomes = st.To is null ? string.Empty : $" -> acts as {st.To}";
                        console.WriteLine($"  {i++}. {st.Action}{becomes}");
                        console.MarkupLine($"     [grey]via {Markup.Escape(st.Via)}[/]");
                    }

                    console.WriteLine();
                }
            }

            return results.Count > 0 ? ExitCodes.Findings : ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>"pods/exec" → (pods, exec, null); "deployments.apps" → (deployments, null, apps).</summary>
    internal static (string Resource, string? Subresource, string? Group) SplitResource(string text, string? subresource)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0)
        {
            subresource ??= text[(slash + 1)..];
            text = text[..slash];
        }

        var dot = text.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 ? (text[..dot], subresource, text[(dot + 1)..]) : (text, subresource, null);
    }

    private static bool TryParseSubject(string text, CliContext context, out RbacSubject subject)
    {
        try
        {
            subject = RbacSubject.Parse(text);
            return true;
        }
        catch (FormatException ex)
        {
            context.Error.WriteLine($"error: {ex.Message}");
            subject = null!;
            return false;
        }
    }

    private static GrantRow Row(RbacGrant g) =>
        new(g.Subject.ToString(), g.Subject.Kind, g.Subject.Name, g.Subject.Namespace, g.Scope, g.Via, g.Rule.ToString());

    private static Table NewTable(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Simple);
        foreach (var c in columns)
        {
            table.AddColumn(c);
        }

        return table;
    }

    private static Text Text(string s) => new(s);

    private static IAnsiConsole Console(CliContext context)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = context.ColorOutput ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = context.ColorOutput ? ColorSystemSupport.Standard : ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(context.Out),
            Interactive = InteractionSupport.No,
        });
        if (!context.ColorOutput)
        {
            console.Profile.Width = 200;
        }

        return console;
    }

    private static void Write<T>(CliContext context, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info)
    {
        context.Out.WriteLine(JsonSerializer.Serialize(value, info));
    }
}

/// <summary>One grant as who-can and can report it.</summary>
internal sealed record GrantRow(string Subject, string SubjectKind, string SubjectName, string? SubjectNamespace, string Scope, string Binding, string Rule);

/// <summary>One hop of an escalation path.</summary>
internal sealed record PathStep(string From, string Action, string? To, string Via);

/// <summary>A subject's way to a cluster-compromising permission.</summary>
internal sealed record PathRow(string Subject, string Goal, IReadOnlyList<PathStep> Steps);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(List<GrantRow>))]
[JsonSerializable(typeof(List<PathRow>))]
internal sealed partial class RbacJsonContext : JsonSerializerContext;
