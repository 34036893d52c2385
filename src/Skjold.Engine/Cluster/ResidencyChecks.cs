using System.Text.Json;
using System.Text.RegularExpressions;
using Skjold.Engine.Model;
using Skjold.Engine.Pss;
using Skjold.Engine.Workloads;

namespace Skjold.Engine.Cluster;

/// <summary>
/// Data residency: where nodes run (region and zone labels, corroborated by the provider ID), where
/// persistent volumes are pinned, where images are pulled from, and where Skjold itself sends data,
/// against the allowed regions (EU/EEA by default). Every finding states its evidence, and a
/// location claimed only by a label is reported as a claim.
/// </summary>
internal sealed partial class ResidencyChecks : ClusterCheck
{
    private static readonly string[] RegionLabels = ["topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region"];
    private static readonly string[] ZoneLabels = ["topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone"];
    internal static readonly string[] GlobalRegistries = ["docker.io", "ghcr.io", "quay.io", "gcr.io", "registry.k8s.io", "k8s.gcr.io", "public.ecr.aws", "mcr.microsoft.com", "nvcr.io", "registry.gitlab.com"];

    public override IReadOnlyList<string> Ids { get; } = ["residency/node-region", "residency/volume-region", "residency/registry", "residency/global-registry", "residency/destination"];

    public override void Evaluate(ClusterContext context, ClusterSink sink)
    {
        var policy = context.Policy;
        var registriesSeen = new HashSet<string>(StringComparer.Ordinal);
        var view = new PodTemplateView();
        foreach (var r in context.Resources)
        {
            switch (r.Kind)
            {
                case "Node":
                    EvaluateNode(r, policy.AllowedRegions, sink);
                    break;
                case "PersistentVolume":
                    EvaluateVolume(r, policy.AllowedRegions, sink);
                    break;
                default:
                    if (PodTemplateView.TryLocate(r.Root, r.Kind, out var template, out var path)
                        && !context.Index.IsCoveredByController(r))
                    {
                        view.Read(template, path);
                        for (var i = 0; i < view.ContainerCount; i++)
                        {
                            var c = view.Container(i);
                            if (Json.AsString(c.Image) is { Length: > 0 } image)
                            {
                                EvaluateImage(r, JsonPath.Child(c.Path, "image"), image, policy.AllowedRegions, sink, registriesSeen);
                            }
                        }
                    }

                    break;
            }
        }

        foreach (var (name, region) in policy.DataDestinations)
        {
            if (!Allowed(region, policy.AllowedRegions))
            {
                sink.Report("residency/destination", Config(policy), "residency.destinations",
                    $"Skjold sends data to {name} in {region}, outside the allowed regions ({string.Join(", ", policy.AllowedRegions)})");
            }
        }
    }

    private static void EvaluateNode(Resource node, IReadOnlyList<string> allowed, ClusterSink sink)
    {
        var labels = Json.Get(Json.Get(node.Root, "metadata"u8), "labels"u8);
        var labelRegion = First(labels, RegionLabels);
        var zone = First(labels, ZoneLabels);
        var providerId = Json.GetString(Json.Get(node.Root, "spec"u8), "providerID");
        var providerRegion = RegionFromProviderId(providerId);
        if (labelRegion is not null && providerRegion is not null && labelRegion != providerRegion)
        {
            sink.Report("residency/node-region", node, "spec.providerID",
                $"label says region {labelRegion} but the provider ID {providerId} places the node in {providerRegion}");
        }

        var region = providerRegion ?? labelRegion ?? RegionFromZone(zone);
        if (region is null)
        {
            sink.Report("residency/node-region", node, "metadata.labels",
                "no region label and no provider ID with a region: where this node runs cannot be established");
            return;
        }

        var evidence = providerRegion is not null ? $"provider ID {providerId}" : $"label {RegionLabels[0]}={labelRegion ?? zone} (claimed by the label only)";
        if (!Allowed(region, allowed))
        {
            sink.Report("residency/node-region", node, providerRegion is not null ? "spec.providerID" : "metadata.labels",
                $"runs in {Describe(region)}, outside the allowed regions ({string.Join(", ", allowed)}); evidence: {evidence}");
        }
        else if (providerRegion is null)
        {
            sink.Report("residency/node-region", node, "metadata.labels",
                $"in {Describe(region)} according to a label only; no provider ID confirms it");
        }
    }

    private static void EvaluateVolume(Resource pv, IReadOnlyList<string> allowed, ClusterSink sink)
    {
        var terms = Json.Get(Json.Get(Json.Get(Json.Get(pv.Root, "spec"u8), "nodeAffinity"u8), "required"u8), "nodeSelectorTerms"u8);
        if (terms.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        foreach (var term in terms.EnumerateArray())
        {
            var exprs = Json.Get(term, "matchExpressions"u8);
            if (exprs.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            foreach (var e in exprs.EnumerateArray())
            {
                var key = Json.GetString(e, "key");
                var values = Json.Get(e, "values"u8);
                if (key is null || values.ValueKind != JsonValueKind.Array)
                {
                    continue;
                }

                foreach (var v in values.EnumerateArray())
                {
                    var value = Json.AsString(v);
                    var region = RegionLabels.Contains(key) ? value : ZoneLabels.Contains(key) ? RegionFromZone(value) : null;
                    if (region is not null && !Allowed(region, allowed))
                    {
                        sink.Report("residency/volume-region", pv, "spec.nodeAffinity",
                            $"volume is pinned to {Describe(region)} ({key}={value}), outside the allowed regions");
                    }
                }
            }
        }
    }

    private static void EvaluateImage(Resource r, string path, string image, IReadOnlyList<string> allowed, ClusterSink sink, HashSet<string> seen)
    {
        var reference = ImageReference.Parse(image);
        var host = reference.Registry;
        var region = RegistryRegion(host);
        if (region is not null && !Allowed(region, allowed))
        {
            sink.Report("residency/registry", r, path, $"image {image} comes from registry {host} in {Describe(region)}, outside the allowed regions");
            seen.Add(host);
        }
        else if (region is null && GlobalRegistries.Any(g => host == g || host.EndsWith("." + g, StringComparison.Ordinal)))
        {
            sink.Report("residency/global-registry", r, path, $"image {image} comes from {host}, a public registry served globally, not bound to an allowed region");
            seen.Add(host);
        }
    }

    /// <summary>aws:///eu-north-1a/i-..., gce://project/europe-north1-a/name, openstack and others with a zone.</summary>
    internal static string? RegionFromProviderId(string? providerId)
    {
        if (providerId is null)
        {
            return null;
        }

        var m = ProviderZone().Match(providerId);
        return m.Success ? RegionFromZone(m.Groups["zone"].Value) : null;
    }

    internal static string? RegionFromZone(string? zone)
    {
        if (string.IsNullOrEmpty(zone))
        {
            return null;
        }

        if (AwsZone().IsMatch(zone))
        {
            return zone[..^1];
        }

        if (GcpZone().IsMatch(zone))
        {
            return zone[..zone.LastIndexOf('-')];
        }

        return zone;
    }

    internal static string? RegistryRegion(string host)
    {
        var ecr = EcrHost().Match(host);
        if (ecr.Success)
        {
            return ecr.Groups["region"].Value;
        }

        var gar = GarHost().Match(host);
        if (gar.Success)
        {
            return gar.Groups["region"].Value;
        }

        return host switch
        {
            "eu.gcr.io" => "eu",
            "us.gcr.io" => "us",
            "asia.gcr.io" => "asia",
            _ => null,
        };
    }

    internal static bool Allowed(string region, IReadOnlyList<string> allowed)
    {
        var known = ReferenceData.Regions.FirstOrDefault(x => x.Name == region);
        foreach (var a in allowed)
        {
            if (a == region || (a == "eea" && (known?.Eea == true || region is "eu" or "europe")) || (a == "eu" && (known?.Eu == true || region is "eu" or "europe")))
            {
                return true;
            }
        }

        return false;
    }

    internal static string Describe(string region)
    {
        var known = ReferenceData.Regions.FirstOrDefault(x => x.Name == region);
        return known is null ? region : $"{region} ({known.Provider}, {known.Country})";
    }

    private static string? First(JsonElement labels, string[] keys)
    {
        foreach (var k in keys)
        {
            if (Json.GetString(labels, k) is { Length: > 0 } v)
            {
                return v;
            }
        }

        return null;
    }

    private static Resource Config(Policy.ScanPolicy policy)
    {
        using var doc = JsonDocument.Parse("{\"apiVersion\":\"skjold.io/v1alpha1\",\"kind\":\"Config\",\"metadata\":{\"name\":\"skjold.yaml\"}}");
        return Resource.FromJson(doc.RootElement.Clone(), new SourceLocation(policy.Source ?? "skjold.yaml", 1));
    }

    [GeneratedRegex(@"^(aws|gce|azure|openstack|hcloud|oci|ibm|alicloud)://[^/]*/(?:[^/]+/)?(?<zone>[a-z]{2,}-[a-z]+-?\d+[a-z]?(?:-[a-z])?)/", RegexOptions.CultureInvariant)]
    private static partial Regex ProviderZone();

    [GeneratedRegex(@"^[a-z]{2}(-gov)?-[a-z]+-\d+[a-z]$", RegexOptions.CultureInvariant)]
    private static partial Regex AwsZone();

    [GeneratedRegex(@"^[a-z]+-[a-z]+\d+-[a-z]$", RegexOptions.CultureInvariant)]
    private static partial Regex GcpZone();

    [GeneratedRegex(@"^\d+\.dkr\.ecr\.(?<region>[a-z0-9-]+)\.amazonaws\.com$", RegexOptions.CultureInvariant)]
    private static partial Regex EcrHost();

    [GeneratedRegex(@"^(?<region>[a-z0-9-]+)-docker\.pkg\.dev$", RegexOptions.CultureInvariant)]
    private static partial Regex GarHost();
}
