using System.CommandLine;
using Skjold.Engine.Network;
using Skjold.Reports.Network;

namespace Skjold.Cli;

/// <summary><c>skjold netpol</c>: what can talk to what under the NetworkPolicies of a snapshot or manifests.</summary>
internal static class NetpolCommand
{
    public static Command Create(CliContext context)
    {
        var netpol = new Command("netpol", "NetworkPolicy reachability: reach (one question, with the deciding policies) and map (the whole connectivity list).");
        netpol.Subcommands.Add(Reach(context));
        netpol.Subcommands.Add(Map(context));
        return netpol;
    }

    private static Argument<string[]> Paths() => new("PATH")
    {
        Description = "Snapshot files, manifests or directories with pods or workloads, namespaces and NetworkPolicies (- for stdin)",
        Arity = ArgumentArity.OneOrMore,
    };

    /// <summary>The model of the input; null after an error. <paramref name="incomplete"/> says some input could not be read (the command exits 2 after answering).</summary>
    private static NetworkModel? Load(string[] paths, ParseResult parse, InputScope scope, CliContext context, out bool incomplete)
    {
        incomplete = false;
        if (!scope.TryRead(parse, context, out var ns, out _) || InputFiles.Load(paths, context, ns, parse.GetValue(scope.AllowEmpty)) is not { } loaded)
        {
            return null;
        }

        incomplete = loaded.Incomplete;
        var model = NetworkModel.Build(loaded.Resources);
        foreach (var note in model.Notes)
        {
            // The answers leave these out: say so rather than answer as if they were absent.
            context.Error.WriteLine($"warning: {note.Resource.Locate(note.Path)}: {note.Message}");
        }

        return model;
    }

    private static Command Reach(CliContext context)
    {
        var paths = Paths();
        var from = new Option<string>("--from") { Description = "Source: NAMESPACE/NAME of a workload or pod (NAME[Kind] to disambiguate)", Required = true };
        var to = new Option<string>("--to") { Description = "Destination: NAMESPACE/NAME[:PORT/PROTOCOL], for example shop/db:5432/TCP", Required = true };
        var format = new Option<string>("--format", "-f") { Description = "Output format: table or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var command = new Command("reach", "Whether traffic from one workload may reach another, and the policies that decide.\nExit codes: 0 allowed, 1 denied, 2 usage or input error.")
        {
            paths, from, to, format,
        };
        var scope = new InputScope();
        scope.Namespace.Description = "Namespace of objects without metadata.namespace, as kubectl apply -n would place them (default: default)";
        command.Options.Add(scope.Namespace);
        command.Options.Add(scope.AllowEmpty);
        command.SetAction(parse =>
        {
            var model = Load(parse.GetValue(paths)!, parse, scope, context, out var incomplete);
            if (model is null)
            {
                return ExitCodes.UsageOrInputError;
            }

            if (!ReachQuestion.TrySplitPort(parse.GetValue(to)!, out var toText, out var port, out var protocol, out var error))
            {
                context.Error.WriteLine($"error: {error}");
                return ExitCodes.UsageOrInputError;
            }

            if (One(model, parse.GetValue(from)!, "--from", context) is not { } src || One(model, toText, "--to", context) is not { } dst)
            {
                return ExitCodes.UsageOrInputError;
            }

            var question = new ReachQuestion(src, dst, port, protocol);
            var answer = model.Reach(src, dst);
            if (parse.GetValue(format) == "json")
            {
                NetworkAnswerText.WriteReachJson(context.Out, model, question, answer);
            }
            else
            {
                NetworkAnswerText.WriteReach(context.Out, question, answer);
            }

            var allowed = question.IsAllowedBy(answer);
            return incomplete ? ExitCodes.UsageOrInputError : allowed ? ExitCodes.Ok : ExitCodes.Findings;
        });
        return command;
    }

    private static NetworkWorkload? One(NetworkModel model, string text, string option, CliContext context)
    {
        var found = model.Resolve(text);
        if (found.Count == 1)
        {
            return found[0];
        }

        context.Error.WriteLine(found.Count == 0
            ? $"error: {option} {text}: no pod or workload of that name in the input"
            : $"error: {option} {text} is ambiguous: {string.Join(", ", found.Select(w => w.Id))}");
        return null;
    }

    private static Command Map(CliContext context)
    {
        var paths = Paths();
        var format = new Option<string>("--format", "-f") { Description = "Output format: table, json, csv or dot (Graphviz)", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json", "csv", "dot");
        var output = new Option<string?>("--output", "-o") { Description = "Write to this file instead of stdout" };
        var command = new Command("map", "Print every allowed connection between workloads, and with addresses outside the cluster (exposure).\nExit codes: 0 written, 2 usage or input error.")
        {
            paths, format, output,
        };
        var scope = new InputScope();
        scope.Namespace.Description = "Namespace of objects without metadata.namespace, as kubectl apply -n would place them (default: default)";
        command.Options.Add(scope.Namespace);
        command.Options.Add(scope.AllowEmpty);
        command.SetAction(parse =>
        {
            var model = Load(parse.GetValue(paths)!, parse, scope, context, out var incomplete);
            if (model is null)
            {
                return ExitCodes.UsageOrInputError;
            }

            var list = ConnectivityList.Build(model);
            var text = new StringWriter();
            NetworkAnswerText.WriteMap(text, parse.GetValue(format)!, model, list);
            if (!OutputFile.TryWrite(context, parse.GetValue(output), text.ToString()))
            {
                return ExitCodes.UsageOrInputError;
            }

            if (parse.GetValue(output) is { } file)
            {
                context.Error.WriteLine($"Wrote {list.Count} connections to {file}.");
            }

            return incomplete ? ExitCodes.UsageOrInputError : ExitCodes.Ok;
        });
        return command;
    }
}
