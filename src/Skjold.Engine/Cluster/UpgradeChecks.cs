using System.Globalization;
using System.Text.RegularExpressions;
using Skjold.Engine.Model;

namespace Skjold.Engine.Cluster;

/// <summary>
/// Upgrade readiness: the cluster's Kubernetes version (from the snapshot, or the nodes' kubelets)
/// against the dated release data, and API versions that are deprecated or removed by the target
/// version (<c>upgrade.targetVersion</c>, default the newest known release).
/// </summary>
internal sealed partial class UpgradeChecks : ClusterCheck
{
    public const string ServerVersionAnnotation = "skjold.io/server-version";

    public override IReadOnlyList<string> Ids { get; } = ["upgrade/end-of-life", "upgrade/removed-api", "upgrade/deprecated-api"];

    public override void Evaluate(ClusterContext context, ClusterSink sink)
    {
        var today = DateOnly.FromDateTime(context.Now.UtcDateTime);
        foreach (var r in context.Resources)
        {
            if (r.Kind == "Node")
            {
                var version = Json.GetString(Json.Get(Json.Get(r.Root, "status"u8), "nodeInfo"u8), "kubeletVersion");
                CheckVersion(r, "status.nodeInfo.kubeletVersion", version, today, sink, "kubelet");
            }
            else if (r.Kind == "ClusterVersion" && r.Ref.ApiVersion.StartsWith("skjold.io/", StringComparison.Ordinal))
            {
                CheckVersion(r, "gitVersion", Json.GetString(r.Root, "gitVersion"), today, sink, "API server");
            }

            foreach (var api in ReferenceData.DeprecatedApis)
            {
                if (api.Kind != r.Kind || api.ApiVersion != r.Ref.ApiVersion)
                {
                    continue;
                }

                var target = context.Policy.UpgradeTargetMinor;
                if (api.RemovedIn <= target)
                {
                    sink.Report("upgrade/removed-api", r, "apiVersion",
                        $"{api.ApiVersion} {api.Kind} was removed in Kubernetes 1.{api.RemovedIn} (target 1.{target}); use {api.Replacement}");
                }
                else if (api.DeprecatedIn <= target)
                {
                    sink.Report("upgrade/deprecated-api", r, "apiVersion",
                        $"{api.ApiVersion} {api.Kind} is deprecated since 1.{api.DeprecatedIn} and removed in 1.{api.RemovedIn}; use {api.Replacement}");
                }
            }
        }
    }

    private static void CheckVersion(Resource r, string path, string? version, DateOnly today, ClusterSink sink, string what)
    {
        var m = version is null ? null : MinorVersion().Match(version);
        if (m is null || !m.Success)
        {
            return;
        }

        var minor = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        var release = ReferenceData.Releases.FirstOrDefault(x => x.Minor == minor);
        var oldest = ReferenceData.Releases.Min(x => x.Minor);
        if (release is null && minor < oldest)
        {
            sink.Report("upgrade/end-of-life", r, path, $"{what} {version} is long past end of support (older than 1.{oldest})");
        }
        else if (release is not null && release.EndOfLife < today)
        {
            sink.Report("upgrade/end-of-life", r, path, $"{what} {version}: Kubernetes 1.{minor} went out of support on {release.EndOfLife:yyyy-MM-dd}");
        }
        else if (release is not null && release.EndOfLife < today.AddDays(90))
        {
            sink.Report("upgrade/end-of-life", r, path, $"{what} {version}: Kubernetes 1.{minor} goes out of support on {release.EndOfLife:yyyy-MM-dd}, within 90 days");
        }
    }

    [GeneratedRegex(@"^v?1\.(\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex MinorVersion();
}
