using System.CommandLine;
using Skjold.Engine.Model;
using Skjold.Engine.Rbac;
using Skjold.Kubernetes.Loading;
using Skjold.Reports;
using Skjold.Reports.Rbac;

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

    /// <summary>The inputs every rbac subcommand shares: PATH..., --cluster, --format, --namespace, --kube-version.</summary>
    private sealed class Inputs(bool questionNamespace)
    {
        public Argument<string[]> PathArgument { get; } = new("PATH")
        {
            Description = "Snapshot files, manifests or directories holding the RBAC objects (or --cluster)",
            Arity = ArgumentArity.ZeroOrMore,
        };

        public Option<bool> Live { get; } = new("--cluster") { Description = "Read RBAC from the live cluster instead of files" };

        public Option<string> Format { get; } = new("--format", "-f") { Description = "Output format: table or json", DefaultValueFactory = _ => "table" };

        public InputScope Scope { get; } = new(questionNamespace);

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
            Scope.AddTo(c);
            Cluster.AddTo(c);
        }

        /// <summary>Loads the input and builds the model (bootstrap policy included); null after writing the error.</summary>
        public async Task<(IReadOnlyList<Resource> Resources, RbacModel Model, string DefaultNamespace, bool Incomplete, string? QuestionNamespace)?> LoadAsync(ParseResult parse, IReadOnlyList<string> paths, CliContext context, CancellationToken ct)
        {
            if (!Scope.TryRead(parse, context, out var defaultNamespace, out var kubeMinor))
            {
                return null;
            }

            // As kubectl: a question about a live cluster is asked in the context's namespace unless
            // -n or -A says otherwise (the whole cluster is read either way: cluster-wide grants count).
            if (await Cluster.ReadInputAsync(parse, context, parse.GetValue(Live), paths, Scope, "give a snapshot, manifests or --cluster", ct, wholeCluster: true).ConfigureAwait(false) is not { } input)
            {
                return null;
            }

            var (resources, incomplete) = (input.Resources, input.Incomplete);
            var question = Scope.Given(parse) ?? (input.Config is { } live && !parse.GetValue(Scope.AllNamespaces) ? live.Namespace : null);
            var model = RbacModel.Build(resources, new RbacModelOptions { DefaultNamespace = defaultNamespace, KubeMinor = kubeMinor, Now = context.Time.GetUtcNow() });
            return (resources, model, defaultNamespace, incomplete, question);
        }
    }

    private static Command WhoCan(CliContext context)
    {
        var inputs = new Inputs(questionNamespace: true);
        var verb = new Argument<string>("VERB") { Description = "get, list, watch, create, update, patch, delete, deletecollection, bind, escalate, impersonate, approve, ... (verbs are case-sensitive)" };
        var resource = new Argument<string>("RESOURCE")
        {
            Description = "A resource, optionally with subresource and group (pods, pods/exec, deployments.apps, endpointslices, clusterroles.rbac.authorization.k8s.io), or a non-resource URL (/metrics, /logs/kubelet)",
        };
        var name = new Option<string?>("--name") { Description = "A specific object name (rules limited by resourceNames match only it; create and deletecollection never carry one)" };
        var sub = new Option<string?>("--subresource") { Description = "Subresource, for example exec, log, proxy, token" };
        var command = new Command("who-can",
            "List every subject that may perform VERB on RESOURCE, with the binding and rule that allow it, as the API server's RBAC authorizer decides.\n" +
            "Examples:\n  skjold rbac who-can get secrets -n payments cluster.json\n  skjold rbac who-can create pods/exec cluster.json\n  skjold rbac who-can get /metrics manifests/\n" +
            "Exit codes: 0 answered, 2 usage or input error.")
        {
            verb, resource, name, sub,
        };
        inputs.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            if (await inputs.LoadAsync(parse, parse.GetValue(inputs.PathArgument) ?? [], context, ct).ConfigureAwait(false) is not { } input)
            {
                return ExitCodes.UsageOrInputError;
            }

            var model = input.Model;
            var ns = input.QuestionNamespace;
            var query = model.Query(parse.GetValue(verb)!, parse.GetValue(resource)!, parse.GetValue(sub), parse.GetValue(name), ns);
            if (query.Warning is { } warning)
            {
                await context.Error.WriteLineAsync($"warning: {warning}").ConfigureAwait(false);
            }

            if (RbacAnswerText.NamespaceNote(query, ns) is { } note)
            {
                await context.Error.WriteLineAsync("note: " + note).ConfigureAwait(false);
            }

            var rows = RbacAnswers.WhoCan(model, query);
            if (parse.GetValue(inputs.Format) == "json")
            {
                RbacAnswerText.WriteJson(context.Out, rows);
            }
            else
            {
                RbacAnswerText.WriteWhoCan(Target(context), model, query, rows);
            }

            return input.Incomplete ? ExitCodes.UsageOrInputError : ExitCodes.Ok;
        });
        return command;
    }

    private static Command Can(CliContext context)
    {
        var inputs = new Inputs(questionNamespace: true);
        var subject = new Argument<string>("SUBJECT") { Description = "user:NAME, group:NAME, sa:NAMESPACE/NAME or system:serviceaccount:NS:NAME (a bare name is a user)" };
        var groups = new Option<string[]>("--group") { Description = "A group the user is in (repeatable), as kubectl --as-group; system:authenticated (or system:unauthenticated for system:anonymous) is added as the API server does" };
        var command = new Command("can",
            "List everything SUBJECT may do, directly and through its groups (system:authenticated, system:serviceaccounts, system:serviceaccounts:NS, or system:unauthenticated for system:anonymous).\n" +
            "Examples:\n  skjold rbac can sa:ci/deployer cluster.json\n  skjold rbac can user:alice --group dev -n payments manifests/\n" +
            "Exit codes: 0 answered, 2 usage or input error.")
        {
            subject, groups,
        };
        inputs.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            if (!TryParseSubject(parse.GetValue(subject)!, context, out var s))
            {
                return ExitCodes.UsageOrInputError;
            }

            if (await inputs.LoadAsync(parse, parse.GetValue(inputs.PathArgument) ?? [], context, ct).ConfigureAwait(false) is not { } input)
            {
                return ExitCodes.UsageOrInputError;
            }

            var model = input.Model;
            var user = RbacUser.Of(s, parse.GetValue(groups));
            var rows = RbacAnswers.Can(model, user, input.QuestionNamespace);
            if (parse.GetValue(inputs.Format) == "json")
            {
                RbacAnswerText.WriteJson(context.Out, rows);
            }
            else
            {
                var identity = $"{s} (user {(user.Name.Length == 0 ? "(none)" : user.Name)}, groups {string.Join(", ", user.Groups)})";
                RbacAnswerText.WriteCan(Target(context), model, identity, rows);
            }

            return input.Incomplete ? ExitCodes.UsageOrInputError : ExitCodes.Ok;
        });
        return command;
    }

    private static Command Paths(CliContext context)
    {
        var inputs = new Inputs(questionNamespace: false);
        var args = new Argument<string[]>("[SUBJECT] PATH")
        {
            Description = "An optional subject (user:NAME, group:NAME, sa:NS/NAME) followed by snapshot files, manifests or directories",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = new Command("paths",
            "Find privilege escalation paths: how a subject (or every subject outside the control plane) reaches a cluster-compromising permission, hop by hop.\n" +
            "Examples:\n  skjold rbac paths cluster.json\n  skjold rbac paths group:ci-runners manifests/ --namespace ci\n" +
            "Exit codes: 0 no path, 1 paths found, 2 usage or input error.")
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
                // A subject names its kind (user:, group:, sa:); anything else is a path that does not exist.
                if (!live && !paths[0].Contains(':', StringComparison.Ordinal))
                {
                    await context.Error.WriteLineAsync($"error: {paths[0]}: no such file or directory (a subject is written user:NAME, group:NAME or sa:NAMESPACE/NAME)").ConfigureAwait(false);
                    return ExitCodes.UsageOrInputError;
                }

                if (!TryParseSubject(paths[0], context, out var s))
                {
                    return ExitCodes.UsageOrInputError;
                }

                start = s;
                paths.RemoveAt(0);
            }

            if (await inputs.LoadAsync(parse, paths, context, ct).ConfigureAwait(false) is not { } input)
            {
                return ExitCodes.UsageOrInputError;
            }

            var results = RbacAnswers.Paths(input.Model, input.Resources, input.DefaultNamespace, start, out var examined);
            if (parse.GetValue(inputs.Format) == "json")
            {
                RbacAnswerText.WriteJson(context.Out, results);
            }
            else
            {
                RbacAnswerText.WritePaths(Target(context), input.Model, results, start, examined);
            }

            return input.Incomplete ? ExitCodes.UsageOrInputError : results.Count > 0 ? ExitCodes.Findings : ExitCodes.Ok;
        });
        return command;
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

    private static TextTarget Target(CliContext context) => new(context.Out, context.ColorOutput, context.TerminalWidth);
}
