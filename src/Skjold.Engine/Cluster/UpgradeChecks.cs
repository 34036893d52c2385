using System.Globalization;
using System.Text.Json;
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

            Check(r, r.Ref.ApiVersion, "apiVersion", null, context.Policy.UpgradeTargetMinor, sink);

            // Live objects are served at the current version; the version they were last applied
            // with (kubectl, kapp) is what the next apply from the same manifests will send.
            var annotations = Json.Get(Json.Get(r.Root, "metadata"u8), "annotations"u8);
            foreach (var key in AppliedAnnotations)
            {
                if (Json.GetString(annotations, key) is { Length: > 0 } applied && AppliedApiVersion(applied, r.Kind) is { } appliedVersion && appliedVersion != r.Ref.ApiVersion)
                {
                    Check(r, appliedVersion, JsonPath.Child("metadata.annotations", key), key, context.Policy.UpgradeTargetMinor, sink);
                }
            }
        }
    }

    private static readonly string[] AppliedAnnotations = ["kubectl.kubernetes.io/last-applied-configuration", "kapp.k14s.io/original"];

    private static void Check(Resource r, string apiVersion, string path, string? annotation, int target, ClusterSink sink)
    {
        foreach (var api in ReferenceData.DeprecatedApis)
        {
            if (api.Kind != r.Kind || api.ApiVersion != apiVersion)
            {
                continue;
            }

            var how = annotation is null ? string.Empty : $" (last applied as {apiVersion}, per {annotation})";
            if (api.RemovedIn <= target)
            {
                sink.Report("upgrade/removed-api", r, path,
                    $"{api.ApiVersion} {api.Kind} was removed in Kubernetes 1.{api.RemovedIn} (target 1.{target}){how}; use {api.Replacement}");
            }
            else if (api.DeprecatedIn <= target)
            {
                sink.Report("upgrade/deprecated-api", r, path,
                    $"{api.ApiVersion} {api.Kind} is deprecated since 1.{api.DeprecatedIn}{(api.RemovedIn is { } removed ? $" and removed in 1.{removed}" : ", removal not yet scheduled")}{how}; use {api.Replacement}");
            }
        }
    }

    /// <summary>The apiVersion of an applied-configuration annotation, if it describes the same kind.</summary>
    private static string? AppliedApiVersion(string json, string kind)
    {
        try
        {
            var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(json), new JsonReaderOptions { MaxDepth = 256 });
            string? apiVersion = null;
            string? appliedKind = null;
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                if (reader.TokenType == JsonTokenType.String && name is "apiVersion" or "kind")
                {
                    if (name == "apiVersion")
                    {
                        apiVersion = reader.GetString();
                    }
                    else
                    {
                        appliedKind = reader.GetString();
                    }

                    if (apiVersion is not null && appliedKind is not null)
                    {
                        break;
                    }
                }
                else
                {
                    reader.Skip();
                }
            }

            return appliedKind == kind ? apiVersion : null;
        }
        catch (JsonException)
        {
            return null;
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
