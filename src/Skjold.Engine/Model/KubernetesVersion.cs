using System.Globalization;
using Skjold.Engine.Cluster;

namespace Skjold.Engine.Model;

/// <summary>
/// Which Kubernetes minor version an input describes: the API server's version recorded in a
/// snapshot (the skjold.io ClusterVersion object), else the one given (<c>--kube-version</c>), else
/// the oldest minor still supported upstream on <c>today</c> per the release data, the safest
/// assumption for manifests that may be applied to any supported cluster.
/// </summary>
public static class KubernetesVersion
{
    /// <summary>The minor of a version text such as "v1.29.6", "1.30" or "30"; null when it is not one.</summary>
    public static int? ParseMinor(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var t = text.Trim().TrimStart('v', 'V');
        if (t.StartsWith("1.", StringComparison.Ordinal))
        {
            t = t[2..];
        }

        var end = 0;
        while (end < t.Length && char.IsAsciiDigit(t[end]))
        {
            end++;
        }

        return end > 0 && end <= 3 && (end == t.Length || t[end] is '.' or '-' or '+')
            && int.TryParse(t.AsSpan(0, end), NumberStyles.None, CultureInfo.InvariantCulture, out var minor) ? minor : null;
    }

    /// <summary>The minor recorded in the input's ClusterVersion object, if any.</summary>
    public static int? FromInput(IReadOnlyList<Resource> resources)
    {
        foreach (var r in resources)
        {
            if (r.Kind == "ClusterVersion" && r.Ref.ApiVersion.StartsWith("skjold.io/", StringComparison.Ordinal))
            {
                return ParseMinor(Json.GetString(r.Root, "gitVersion"));
            }
        }

        return null;
    }

    /// <summary>Whether the input is a snapshot of a live cluster (so what it lacks does not exist).</summary>
    public static bool IsSnapshot(IReadOnlyList<Resource> resources)
    {
        foreach (var r in resources)
        {
            if (r.Kind == "ClusterVersion" && r.Ref.ApiVersion.StartsWith("skjold.io/", StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The oldest minor whose upstream support has not ended on <paramref name="today"/>.</summary>
    public static int OldestSupported(DateOnly today)
    {
        var oldest = int.MaxValue;
        var newest = 0;
        foreach (var r in ReferenceData.Releases)
        {
            newest = Math.Max(newest, r.Minor);
            if (!r.Planned && r.EndOfLife >= today && r.Minor < oldest)
            {
                oldest = r.Minor;
            }
        }

        return oldest == int.MaxValue ? newest : oldest;
    }

    /// <summary>The minor to judge an input by (see the type's summary).</summary>
    public static int Effective(IReadOnlyList<Resource> resources, int? configured, DateTimeOffset now) =>
        FromInput(resources) ?? configured ?? OldestSupported(DateOnly.FromDateTime(now.UtcDateTime));
}
