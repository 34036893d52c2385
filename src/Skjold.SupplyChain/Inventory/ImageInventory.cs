using System.Text.Json;
using Skjold.Engine.Model;
using Skjold.SupplyChain.Admission;
using Skjold.SupplyChain.Oci;
using Skjold.SupplyChain.Policy;

namespace Skjold.SupplyChain.Inventory;

/// <summary>Where an image runs: the object, its namespace and the container.</summary>
public sealed record ImageLocation(string Kind, string? Namespace, string Name, string Container);

/// <summary>One image of the inventory: its name and digest (when known), where it runs, its signature and scan verdicts, its registry's region.</summary>
public sealed record InventoryEntry(
    string Image,
    string Registry,
    string Repository,
    string? Tag,
    string? Digest,
    IReadOnlyList<ImageLocation> Locations,
    string Signature,
    string? SignedBy,
    string Vulnerabilities,
    string Region,
    bool? RegionInEea);

/// <summary>
/// The images a cluster runs (pods, and the pod templates of controllers, from a snapshot, manifests or a live
/// read), grouped by image and digest. A pod's digest comes from its reference or, when the kubelet recorded it,
/// from <c>status.containerStatuses[].imageID</c>. With a verification service, each image's signature and scan
/// verdicts are added (as the webhook would judge them in the first namespace it runs in).
/// </summary>
public static class ImageInventory
{
    public static async Task<IReadOnlyList<InventoryEntry>> BuildAsync(IReadOnlyList<Resource> resources, ImageVerificationService? service, CancellationToken ct)
    {
        var groups = new Dictionary<string, (string Image, ImageReference? Ref, string? Digest, List<ImageLocation> Where)>(StringComparer.Ordinal);
        foreach (var r in resources)
        {
            var running = RunningDigests(r);
            foreach (var (_, container, image) in PodImages.Of(r.Root, r.Kind))
            {
                ImageReference.TryParse(image, out var reference, out _);
                var digest = reference?.Digest ?? running.GetValueOrDefault(container);
                var key = reference is null ? image : $"{reference.Registry}/{reference.Repository}:{reference.Tag}@{digest}";
                if (!groups.TryGetValue(key, out var g))
                {
                    g = (image, reference, digest, []);
                    groups[key] = g;
                }

                g.Where.Add(new ImageLocation(r.Ref.Kind, r.Ref.Namespace, r.Ref.Name, container));
            }
        }

        var entries = new List<InventoryEntry>();
        foreach (var (_, (image, reference, digest, where)) in groups.OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var signature = "not checked";
            string? signedBy = null;
            var vulns = "not checked";
            var resolved = digest;
            if (service is not null)
            {
                var target = reference is not null && digest is not null && reference.Digest is null ? reference.Pinned(digest) : image;
                var check = await service.CheckAsync(target, where[0].Namespace, ct).ConfigureAwait(false);
                resolved ??= check.Digest;
                signature = check.Decision switch
                {
                    ImageDecision.NotCovered => "no rule",
                    ImageDecision.Exempt => "exempt",
                    ImageDecision.Verified => "verified",
                    ImageDecision.Unavailable => "unavailable",
                    _ => "failed",
                };
                if (check.Decision == ImageDecision.Verified)
                {
                    signedBy = string.Join(", ", check.Signatures.Where(s => s.Verified && s.PredicateType is null).Select(s => s.Identity ?? s.Key ?? "key").Distinct());
                }

                if (resolved is not null && service.Settings.Reports.Find(resolved) is { } report)
                {
                    vulns = $"{report.Summary()} ({report.Format}, {report.ScannedAt:yyyy-MM-dd})";
                }
                else
                {
                    vulns = "no scan result";
                }
            }

            var registry = reference?.Registry ?? "";
            var (_, description, inEea, _) = Engine.Cluster.RegistryRegions.Of(registry);
            entries.Add(new InventoryEntry(image, registry, reference?.Repository ?? image, reference?.Tag, resolved, where, signature, signedBy, vulns,
                description, inEea));
        }

        return entries;
    }

    /// <summary>Container name to the manifest digest the kubelet pulled (imageID of the form repo@sha256:...).</summary>
    private static Dictionary<string, string> RunningDigests(Resource r)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (r.Kind != "Pod" || !r.Root.TryGetProperty("status", out var status) || status.ValueKind != JsonValueKind.Object)
        {
            return result;
        }

        foreach (var list in new[] { "containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses" })
        {
            if (!status.TryGetProperty(list, out var statuses) || statuses.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            foreach (var s in statuses.EnumerateArray())
            {
                if (s.ValueKind == JsonValueKind.Object && s.TryGetProperty("name", out var n) && n.GetString() is { } name
                    && s.TryGetProperty("imageID", out var id) && id.GetString() is { } imageId
                    && imageId.IndexOf("@sha256:", StringComparison.Ordinal) is var at and > 0
                    && Engine.Workloads.ImageReference.IsValidDigest(imageId[(at + 1)..]))
                {
                    result[name] = imageId[(at + 1)..];
                }
            }
        }

        return result;
    }
}
