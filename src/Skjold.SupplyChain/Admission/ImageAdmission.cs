using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Skjold.SupplyChain.Policy;

namespace Skjold.SupplyChain.Admission;

/// <summary>What the supply-chain gate says about one admission request.</summary>
public sealed record ImageAdmissionResult(
    IReadOnlyList<ImageCheck> Checks,
    IReadOnlyList<string> Denials,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<(string Pointer, string Value)> Pins)
{
    public static ImageAdmissionResult Empty { get; } = new([], [], [], []);

    /// <summary>The vulnerability gate's verdict per image (null where it does not apply), in the order of <see cref="Checks"/>.</summary>
    public IReadOnlyList<Vulnerabilities.VulnerabilityVerdict?> Vulnerabilities { get; init; } = [];

    public bool Denied => Denials.Count > 0;

    /// <summary>The JSON Patch operations that pin verified images to their digests (RFC 6902, as a JSON array body without brackets).</summary>
    public IEnumerable<string> PatchOperations()
    {
        foreach (var (pointer, value) in Pins)
        {
            yield return new JsonObject { ["op"] = "replace", ["path"] = pointer, ["value"] = value }.ToJsonString();
        }
    }

    /// <summary>One line for the audit annotation: image=decision pairs.</summary>
    public string Summary()
    {
        var sb = new StringBuilder();
        foreach (var c in Checks)
        {
            if (c.Decision == ImageDecision.NotCovered)
            {
                continue;
            }

            if (sb.Length > 0)
            {
                sb.Append("; ");
            }

            sb.Append(c.Image).Append('=').Append(c.Decision.ToString().ToLowerInvariant());
            if (c.Digest is { } d && c.Reference?.Digest is null)
            {
                sb.Append('(').Append(d).Append(')');
            }
        }

        return sb.ToString();
    }
}

/// <summary>
/// The admission side of the supply-chain policy: every image of a pod or pod template is checked (in
/// parallel, under the request's deadline); an enforcing rule's failure or an undecidable registry denies
/// (fail closed), a warning rule's failure warns, and on /mutate verified images under a rule with
/// <c>mutateDigest</c> are pinned to name@digest, so what was verified is what runs.
/// </summary>
public sealed class ImageAdmission(ImageVerificationService service)
{
    public ImageVerificationService Service => service;

    public async Task<ImageAdmissionResult> CheckAsync(string kind, JsonElement obj, string? ns, bool mutate, CancellationToken ct)
    {
        var images = PodImages.Of(obj, kind);
        if (images.Count == 0 || !service.Settings.Enabled)
        {
            return ImageAdmissionResult.Empty;
        }

        var tasks = new Task<ImageCheck>[images.Count];
        for (var i = 0; i < images.Count; i++)
        {
            tasks[i] = service.CheckAsync(images[i].Image, ns, ct);
        }

        var checks = await Task.WhenAll(tasks).ConfigureAwait(false);
        var vulnTasks = new Task<Vulnerabilities.VulnerabilityVerdict?>[images.Count];
        for (var i = 0; i < images.Count; i++)
        {
            vulnTasks[i] = service.CheckVulnerabilitiesAsync(images[i].Image, checks[i].Digest, ns, ct);
        }

        var vulns = await Task.WhenAll(vulnTasks).ConfigureAwait(false);
        var enforceVulns = service.Settings.Vulnerabilities?.Mode != ImageRuleMode.Warn;
        var denials = new List<string>();
        var warnings = new List<string>();
        var pins = new List<(string, string)>();
        for (var i = 0; i < checks.Length; i++)
        {
            var c = checks[i];
            var container = images[i].Container;
            if (c.Denies)
            {
                denials.Add($"container {container}: image {c.Image}: {c.Message}");
            }
            else if (c.Warns)
            {
                warnings.Add($"skjold: container {container}: image {c.Image}: {c.Message} (rule {c.Rule!.Name} only warns)");
            }
            else if (c.Decision == ImageDecision.Exempt && c.Exemption is { } e && e.Expires.DayNumber - DateOnly.FromDateTime(DateTime.UtcNow).DayNumber <= 14)
            {
                warnings.Add($"skjold: image {c.Image}: exemption expires {e.Expires:yyyy-MM-dd} ({e.Reason})");
            }

            if (vulns[i] is { Decision: not Vulnerabilities.VulnerabilityDecision.Pass } vv)
            {
                if (enforceVulns)
                {
                    denials.Add($"container {container}: image {c.Image}: {vv.Message}");
                }
                else
                {
                    warnings.Add($"skjold: container {container}: image {c.Image}: {vv.Message} (the vulnerability gate only warns)");
                }
            }

            if (mutate && c.Decision == ImageDecision.Verified && c.Rule is { MutateDigest: true } && c.Reference is { Digest: null } r && c.Digest is { } digest)
            {
                pins.Add((images[i].Pointer, r.Pinned(digest)));
            }
        }

        return new ImageAdmissionResult(checks, denials, warnings, pins) { Vulnerabilities = vulns };
    }
}
