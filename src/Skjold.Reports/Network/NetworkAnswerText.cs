using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Skjold.Engine.Network;
using Skjold.Engine.Text;
using Spectre.Console;

namespace Skjold.Reports.Network;

/// <summary>A <c>netpol reach</c> question: source, destination and, optionally, one port and protocol.</summary>
public sealed record ReachQuestion(NetworkWorkload From, NetworkWorkload To, int? Port, string? Protocol)
{
    /// <summary>"8080/TCP", or "any port".</summary>
    public string PortText => Port is null ? "any port" : $"{Port}/{Protocol}";

    /// <summary>
    /// Splits <c>NAMESPACE/NAME[:PORT[/PROTOCOL]]</c> into the workload text and the port (the
    /// protocol defaults to TCP, as in a NetworkPolicy port); false with the reason when the port is not one.
    /// </summary>
    public static bool TrySplitPort(string text, out string workload, out int? port, out string? protocol, out string? error)
    {
        workload = text;
        port = null;
        protocol = null;
        error = null;
        var colon = text.LastIndexOf(':');
        if (colon <= 0)
        {
            return true;
        }

        var spec = text[(colon + 1)..];
        workload = text[..colon];
        var slash = spec.IndexOf('/', StringComparison.Ordinal);
        protocol = slash > 0 ? spec[(slash + 1)..].ToUpperInvariant() : "TCP";
        if (!int.TryParse(slash > 0 ? spec[..slash] : spec, CultureInfo.InvariantCulture, out var p) || p is < ConnectionSet.MinPort or > ConnectionSet.MaxPort || ConnectionSet.ProtocolIndex(protocol) < 0)
        {
            error = $"'{spec}' is not PORT/PROTOCOL (for example 8080/TCP; protocols TCP, UDP, SCTP)";
            return false;
        }

        port = p;
        return true;
    }

    /// <summary>Whether the answer allows the question's port, or any connection when none was given.</summary>
    public bool IsAllowedBy(ReachAnswer answer) => Port is { } n ? answer.Allowed.Contains(Protocol!, n) : !answer.Allowed.IsEmpty;
}

/// <summary>The views of <c>netpol reach</c> and <c>netpol map</c>.</summary>
public static class NetworkAnswerText
{
    public static void WriteReachJson(TextWriter o, NetworkModel model, ReachQuestion q, ReachAnswer answer)
    {
        var result = new ReachResult(q.From.Id, q.To.Id, q.PortText, q.IsAllowedBy(answer), answer.Allowed.ToString(),
            answer.EgressPolicies.Count == 0 ? "not isolated (no policy selects the source for egress)" : answer.EgressAllowed.ToString(),
            answer.IngressPolicies.Count == 0 ? "not isolated (no policy selects the destination for ingress)" : answer.IngressAllowed.ToString(),
            answer.EgressPolicies, answer.IngressPolicies, answer.EgressAllowedBy, answer.IngressAllowedBy, q.From.HostNetwork || q.To.HostNetwork)
        {
            EgressDeniedBy = answer.EgressDeniedBy,
            IngressDeniedBy = answer.IngressDeniedBy,
            Warnings = [.. model.Notes.Select(n => n.Message)],
        };
        o.WriteLine(JsonSerializer.Serialize(result, NetpolJsonContext.Default.ReachResult));
    }

    public static void WriteReach(TextWriter o, ReachQuestion q, ReachAnswer answer)
    {
        o.WriteLine($"{(q.IsAllowedBy(answer) ? "ALLOWED" : "DENIED")}: {q.From.Id} -> {q.To.Id} on {q.PortText}");
        o.WriteLine($"  allowed connections: {answer.Allowed}");
        if (q.From.HostNetwork || q.To.HostNetwork)
        {
            o.WriteLine("  a host-network pod is involved: NetworkPolicy does not apply to it");
        }

        Explain(o, "egress of the source", answer.EgressPolicies, answer.EgressAllowedBy, answer.EgressDeniedBy, answer.EgressAllowed);
        Explain(o, "ingress of the destination", answer.IngressPolicies, answer.IngressAllowedBy, answer.IngressDeniedBy, answer.IngressAllowed);
    }

    /// <summary>The connectivity list in <paramref name="format"/> (table, json, csv or dot); a table's rows are never wrapped.</summary>
    public static void WriteMap(TextWriter text, string format, NetworkModel model, List<Connection> list)
    {
        switch (format)
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
                WriteTable(text, list);
                break;
        }
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

    private static void WriteTable(TextWriter text, List<Connection> list)
    {
        var console = PlainConsole.Create(text, false, 1_000_000);
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
public sealed record ConnectionRow(string Source, string Destination, string Connections, bool External);

/// <summary>The answer of <c>netpol reach --format json</c>.</summary>
public sealed record ReachResult(string From, string To, string Port, bool Allowed, string AllowedConnections, string Egress, string Ingress,
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
