namespace Skjold.Engine.Network;

/// <summary>One allowed connection of the connectivity list: workloads or external address ranges.</summary>
public sealed record Connection(string Source, string Destination, ConnectionSet Connections, bool SourceExternal, bool DestinationExternal)
{
    public override string ToString() => $"{Source} => {Destination} : {Connections}";
}

/// <summary>Every allowed connection between the workloads of a model, and with addresses outside the cluster.</summary>
public static class ConnectivityList
{
    public static List<Connection> Build(NetworkModel model, bool includeExternal = true)
    {
        var result = new List<Connection>();
        var workloads = model.Workloads;
        foreach (var src in workloads)
        {
            foreach (var dst in workloads)
            {
                if (ReferenceEquals(src, dst))
                {
                    continue;
                }

                var conns = model.Allowed(src, dst);
                if (!conns.IsEmpty)
                {
                    result.Add(new Connection(src.Id, dst.Id, conns, false, false));
                }
            }

            if (includeExternal)
            {
                foreach (var (lo, hi, conns) in model.External(src, egress: true))
                {
                    result.Add(new Connection(src.Id, NetworkModel.FormatRange(lo, hi) + "[External]", conns, false, true));
                }

                foreach (var (lo, hi, conns) in model.External(src, egress: false))
                {
                    result.Add(new Connection(NetworkModel.FormatRange(lo, hi) + "[External]", src.Id, conns, true, false));
                }
            }
        }

        result.Sort((a, b) => string.CompareOrdinal(a.ToString(), b.ToString()));
        return result;
    }
}
