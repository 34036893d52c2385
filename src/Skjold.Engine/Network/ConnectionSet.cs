using System.Globalization;
using System.Text;

namespace Skjold.Engine.Network;

/// <summary>
/// A set of connections: for each protocol (SCTP, TCP, UDP) a set of destination ports 1-65535,
/// held as sorted disjoint ranges. Immutable.
/// </summary>
public sealed class ConnectionSet : IEquatable<ConnectionSet>
{
    public const int MinPort = 1;
    public const int MaxPort = 65535;

    /// <summary>Protocols NetworkPolicy knows, in the order they are printed.</summary>
    public static readonly string[] Protocols = ["SCTP", "TCP", "UDP"];

    private readonly (int Lo, int Hi)[][] _ranges;

    private ConnectionSet((int Lo, int Hi)[][] ranges) => _ranges = ranges;

    public static ConnectionSet None { get; } = new([[], [], []]);

    public static ConnectionSet All { get; } = new([[(MinPort, MaxPort)], [(MinPort, MaxPort)], [(MinPort, MaxPort)]]);

    public bool IsEmpty => _ranges.All(r => r.Length == 0);

    public bool IsAll => _ranges.All(r => r.Length == 1 && r[0] == (MinPort, MaxPort));

    public static int ProtocolIndex(string protocol) => protocol.ToUpperInvariant() switch
    {
        "SCTP" => 0,
        "TCP" => 1,
        "UDP" => 2,
        _ => -1,
    };

    /// <summary>Ports <paramref name="lo"/> to <paramref name="hi"/> of one protocol.</summary>
    public static ConnectionSet Of(string protocol, int lo, int hi)
    {
        var i = ProtocolIndex(protocol);
        if (i < 0 || lo > hi)
        {
            return None;
        }

        var ranges = new (int, int)[3][];
        for (var p = 0; p < 3; p++)
        {
            ranges[p] = p == i ? [(Math.Max(lo, MinPort), Math.Min(hi, MaxPort))] : [];
        }

        return new ConnectionSet(ranges);
    }

    /// <summary>Every port of one protocol.</summary>
    public static ConnectionSet AllOf(string protocol) => Of(protocol, MinPort, MaxPort);

    public bool Contains(string protocol, int port)
    {
        var i = ProtocolIndex(protocol);
        return i >= 0 && _ranges[i].Any(r => r.Lo <= port && port <= r.Hi);
    }

    public ConnectionSet Union(ConnectionSet other)
    {
        if (IsAll || other.IsEmpty)
        {
            return this;
        }

        if (other.IsAll || IsEmpty)
        {
            return other;
        }

        var result = new (int, int)[3][];
        for (var p = 0; p < 3; p++)
        {
            result[p] = Merge(_ranges[p].Concat(other._ranges[p]));
        }

        return new ConnectionSet(result);
    }

    public ConnectionSet Intersect(ConnectionSet other)
    {
        if (IsAll)
        {
            return other;
        }

        if (other.IsAll)
        {
            return this;
        }

        var result = new (int, int)[3][];
        for (var p = 0; p < 3; p++)
        {
            var list = new List<(int, int)>();
            foreach (var a in _ranges[p])
            {
                foreach (var b in other._ranges[p])
                {
                    var lo = Math.Max(a.Lo, b.Lo);
                    var hi = Math.Min(a.Hi, b.Hi);
                    if (lo <= hi)
                    {
                        list.Add((lo, hi));
                    }
                }
            }

            result[p] = Merge(list);
        }

        return new ConnectionSet(result);
    }

    /// <summary>The connections of this set that are not in <paramref name="other"/>.</summary>
    public ConnectionSet Subtract(ConnectionSet other)
    {
        if (IsEmpty || other.IsEmpty)
        {
            return this;
        }

        if (other.IsAll)
        {
            return None;
        }

        var result = new (int, int)[3][];
        for (var p = 0; p < 3; p++)
        {
            var list = new List<(int Lo, int Hi)>(_ranges[p]);
            foreach (var cut in other._ranges[p])
            {
                var next = new List<(int Lo, int Hi)>(list.Count + 1);
                foreach (var r in list)
                {
                    if (cut.Hi < r.Lo || cut.Lo > r.Hi)
                    {
                        next.Add(r);
                        continue;
                    }

                    if (cut.Lo > r.Lo)
                    {
                        next.Add((r.Lo, cut.Lo - 1));
                    }

                    if (cut.Hi < r.Hi)
                    {
                        next.Add((cut.Hi + 1, r.Hi));
                    }
                }

                list = next;
            }

            result[p] = [.. list];
        }

        return new ConnectionSet(result);
    }

    private static (int Lo, int Hi)[] Merge(IEnumerable<(int Lo, int Hi)> ranges)
    {
        var sorted = ranges.OrderBy(r => r.Lo).ToList();
        var merged = new List<(int Lo, int Hi)>();
        foreach (var r in sorted)
        {
            if (merged.Count > 0 && r.Lo <= merged[^1].Hi + 1)
            {
                merged[^1] = (merged[^1].Lo, Math.Max(merged[^1].Hi, r.Hi));
            }
            else
            {
                merged.Add(r);
            }
        }

        return [.. merged];
    }

    /// <summary>"All Connections", "No Connections" or e.g. "TCP 80,443,UDP 53" (protocols in order, ranges as lo-hi).</summary>
    public override string ToString()
    {
        if (IsAll)
        {
            return "All Connections";
        }

        if (IsEmpty)
        {
            return "No Connections";
        }

        var sb = new StringBuilder();
        for (var p = 0; p < 3; p++)
        {
            if (_ranges[p].Length == 0)
            {
                continue;
            }

            if (sb.Length > 0)
            {
                sb.Append(',');
            }

            sb.Append(Protocols[p]).Append(' ');
            sb.AppendJoin(',', _ranges[p].Select(r => r.Lo == r.Hi ? r.Lo.ToString(CultureInfo.InvariantCulture) : $"{r.Lo}-{r.Hi}"));
        }

        return sb.ToString();
    }

    public bool Equals(ConnectionSet? other)
    {
        if (other is null)
        {
            return false;
        }

        for (var p = 0; p < 3; p++)
        {
            if (!_ranges[p].SequenceEqual(other._ranges[p]))
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as ConnectionSet);

    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);
}
