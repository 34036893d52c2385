using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Skjold.Engine.Network;
using Skjold.Engine.Text;
using Spectre.Console;

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

            var toText = parse.GetValue(to)!;
            string? protocol = null;
            int? port = null;
            var colon = toText.LastIndexOf(':');
            if (colon > 0)
            {
                var spec = toText[(colon + 1)..];
                toText = toText[..colon];
                var slash = spec.IndexOf('/', StringComparison.Ordinal);
                protocol = slash > 0 ? spec[(slash + 1)..].ToUpperInvariant() : "TCP";
                if (!int.TryParse(slash > 0 ? spec[..slash] : spec, CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535 || ConnectionSet.ProtocolIndex(protocol) < 0)
                {
                    context.Error.WriteLine($"error: '{spec}' is not PORT/PROTOCOL (for example 8080/TCP; protocols TCP, UDP, SCTP)");
                    return ExitCodes.UsageOrInputError;
                }

                port = p;
            }

            if (One(model, parse.GetValue(from)!, "--from", context) is not { } src || One(model, toText, "--to", context) is not { } dst)
            {
                return ExitCodes.UsageOrInputError;
            }

            var answer = model.Reach(src, dst);
            var allowed = port is { } n ? answer.Allowed.Contains(protocol!, n) : !answer.Allowed.IsEmpty;
            var question = port is null ? "any port" : $"{port}/{protocol}";
            if (parse.GetValue(format) == "json")
            {
                var result = new ReachResult(src.Id, dst.Id, question, allowed, answer.Allowed.ToString(),
                    answer.EgressPolicies.Count == 0 ? "not isolated (no policy selects the source for egress)" : answer.EgressAllowed.ToString(),
                    answer.IngressPolicies.Count == 0 ? "not isolated (no policy selects the destination for ingress)" : answer.IngressAllowed.ToString(),
                    answer.EgressPolicies, answer.IngressPolicies, answer.EgressAllowedBy, answer.IngressAllowedBy, src.HostNetwork || dst.HostNetwork)
                {
                    EgressDeniedBy = answer.EgressDeniedBy,
                    IngressDeniedBy = answer.IngressDeniedBy,
                    Warnings = [.. model.Notes.Select(n => n.Message)],
                };
                context.Out.WriteLine(JsonSerializer.Serialize(result, NetpolJsonContext.Default.ReachResult));
            }
            else
            {
                var o = context.Out;
                o.WriteLine($"{(allowed ? "ALLOWED" : "DENIED")}: {src.Id} -> {dst.Id} on {question}");
                o.WriteLine($"  allowed connections: {answer.Allowed}");
                if (src.HostNetwork || dst.HostNetwork)
                {
                    o.WriteLine("  a host-network pod is involved: NetworkPolicy does not apply to it");
                }

                Explain(o, "egress of the source", answer.EgressPolicies, answer.EgressAllowedBy, answer.EgressDeniedBy, answer.EgressAllowed);
                Explain(o, "ingress of the destination", answer.IngressPolicies, answer.IngressAllowedBy, answer.IngressDeniedBy, answer.IngressAllowed);
            }

            return incomplete ? ExitCodes.UsageOrInputError : allowed ? ExitCodes.Ok : ExitCodes.Findings;
        });
        return command;
    }

    private static void Explain(TextWriter o, string side, IReadOnlyList<string> policies, IReadOnlyList<string> allowedBy, IReadOnlyList<string> deniedBy, ConnectionSet conns)
    {
        if (policies.Count == 0)
        {
            o.WriteLine($"  {side}: not isolated, no policy selects it: everything allowed");
            return;
        }

        o.WriteLine($"  {side}: isolated by {string.Join(", ", policies)}; allows {conns}");
        foreach (var a in allowedBy)
        {
            o.WriteLine($"    allowed by {a}");
        }

        foreach (var d in deniedBy)
        {
            o.WriteLine($"    denied by {d}");
        }

        if (allowedBy.Count == 0 && deniedBy.Count == 0)
        {
            o.WriteLine("    no rule of these policies matches: denied");
        }
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
            switch (parse.GetValue(format))
            {
                case "json":
                    text.WriteLine(JsonSerializer.Serialize(list.Select(c => new ConnectionRow(c.Source, c.Destination, c.Connections.ToString(), c.SourceExternal || c.DestinationExternal)).ToList(), NetpolJsonContext.Default.ListConnectionRow));
                    break;
                case "csv":
                    text.WriteLine("source,destination,connections,external");
                    foreach (var c in list)
                    {
                        text.WriteLine($"{Csv.Field(c.Source)},{Csv.Field(c.Destination)},{Csv.Field(c.Connections.ToString())},{(c.SourceExternal || c.DestinationExternal ? "true" : "false")}");
                    }

                    break;
                case "dot":
                    WriteDot(text, model, list);
                    break;
                default:
                    WriteTable(text, list, context);
                    break;
            }

            if (parse.GetValue(output) is { } file)
            {
                try
                {
                    File.WriteAllText(Path.GetFullPath(file, context.WorkingDirectory), text.ToString(), new UTF8Encoding(false));
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    context.Error.WriteLine($"error: cannot write {file}: {ex.Message}");
                    return ExitCodes.UsageOrInputError;
                }

                context.Error.WriteLine($"Wrote {list.Count} connections to {file}.");
            }
            else
            {
                context.Out.Write(text.ToString());
            }

            return incomplete ? ExitCodes.UsageOrInputError : ExitCodes.Ok;
        });
        return command;
    }

    private static void WriteTable(TextWriter text, List<Connection> list, CliContext context)
    {
        var console = Skjold.Reports.PlainConsole.Create(text, false, text == context.Out ? context.TerminalWidth ?? 1_000_000 : 1_000_000);
        var table = new Table().Border(TableBorder.Simple);
        table.AddColumn("Source");
        table.AddColumn("Destination");
        table.AddColumn("Connections");
        foreach (var c in list)
        {
            table.AddRow(new Text(c.Source), new Text(c.Destination), new Text(c.Connections.ToString()));
        }

        console.Write(table);
        var exposed = list.Where(c => c.SourceExternal).Select(c => c.Destination).Distinct().Count();
        var egress = list.Where(c => c.DestinationExternal).Select(c => c.Source).Distinct().Count();
        console.WriteLine($"{list.Count(c => !c.SourceExternal && !c.DestinationExternal)} connections between workloads; {exposed} workloads reachable from outside the cluster; {egress} may connect out.");
        _ = context;
    }

    private static void WriteDot(TextWriter text, NetworkModel model, List<Connection> list)
    {
        text.WriteLine("digraph connectivity {");
        text.WriteLine("  rankdir=LR; node [shape=box, fontname=\"Helvetica\"]; edge [fontname=\"Helvetica\", fontsize=10];");
        foreach (var ns in model.Workloads.GroupBy(w => w.Namespace).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            text.WriteLine($"  subgraph \"cluster_{Dot(ns.Key)}\" {{ label=\"{Dot(ns.Key)}\";");
            foreach (var w in ns)
            {
                text.WriteLine($"    \"{Dot(w.Id)}\" [label=\"{Dot(w.Name)}\\n{Dot(w.Kind)}\"];");
            }

            text.WriteLine("  }");
        }

        foreach (var ext in list.SelectMany(c => new[] { (c.Source, c.SourceExternal), (c.Destination, c.DestinationExternal) }).Where(x => x.Item2).Select(x => x.Item1).Distinct())
        {
            text.WriteLine($"  \"{Dot(ext)}\" [shape=ellipse, style=dashed];");
        }

        foreach (var c in list)
        {
            text.WriteLine($"  \"{Dot(c.Source)}\" -> \"{Dot(c.Destination)}\" [label=\"{Dot(c.Connections.ToString())}\"];");
        }

        text.WriteLine("}");
    }

    private static string Dot(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

}

/// <summary>One line of <c>netpol map --format json</c>.</summary>
internal sealed record ConnectionRow(string Source, string Destination, string Connections, bool External);

/// <summary>The answer of <c>netpol reach --format json</c>.</summary>
internal sealed record ReachResult(string From, string To, string Port, bool Allowed, string AllowedConnections, string Egress, string Ingress,
    IReadOnlyList<string> EgressPolicies, IReadOnlyList<string> IngressPolicies, IReadOnlyList<string> EgressAllowedBy, IReadOnlyList<string> IngressAllowedBy, bool HostNetwork)
{
    public IReadOnlyList<string> EgressDeniedBy { get; init; } = [];

    public IReadOnlyList<string> IngressDeniedBy { get; init; } = [];

    /// <summary>What the model left out (policy kinds, L7 rules): the answer does not take them into account.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(List<ConnectionRow>))]
[JsonSerializable(typeof(ReachResult))]
internal sealed partial class NetpolJsonContext : JsonSerializerContext;
