using System.Globalization;
using System.Text;
using Skjold.Engine.Model;
using Skjold.SupplyChain.Policy;
using Skjold.SupplyChain.Vulnerabilities;

namespace Skjold.SupplyChain.Admission;

/// <summary>
/// The supply-chain checks over a set of manifests or a snapshot, as a report counts them: every image of every
/// pod and pod template is checked against supplyChain.images (sc/image-signature) and supplyChain.vulnerabilities
/// (sc/image-vulnerable, sc/image-not-scanned). A check is evaluated only when the configuration has it and some
/// image fell under it, so a report never counts a check that did not run.
/// </summary>
public static class SupplyChainEvidence
{
    public const string Signature = "sc/image-signature";
    public const string Vulnerable = "sc/image-vulnerable";
    public const string NotScanned = "sc/image-not-scanned";

    public static async Task<ExternalResults> CollectAsync(IReadOnlyList<Resource> resources, ImageVerificationService service, CancellationToken ct)
    {
        var findings = new List<Finding>();
        var evaluated = new HashSet<string>(StringComparer.Ordinal);
        var measured = new StringBuilder();
        foreach (var r in resources)
        {
            foreach (var (pointer, container, image) in PodImages.Of(r.Root, r.Kind))
            {
                var path = DottedPath(pointer);
                var check = await service.CheckAsync(image, r.Ref.Namespace, ct).ConfigureAwait(false);
                if (check.Decision is not (ImageDecision.NotCovered or ImageDecision.Exempt))
                {
                    evaluated.Add(Signature);
                    measured.Append(CultureInfo.InvariantCulture, $"{r.Ref.Kind}/{r.Ref.Namespace}/{r.Ref.Name} {path} {image} {check.Digest} {check.Decision}\n");
                    if (check.Decision != ImageDecision.Verified)
                    {
                        findings.Add(Finding(r, path, Signature, Engine.Model.Severity.High,
                            $"container \"{container}\" image {image}: {check.Message}",
                            "Sign the image in CI (cosign sign) with a key or identity the rule accepts, or fix the rule."));
                    }
                }

                if (await service.CheckVulnerabilitiesAsync(image, check.Digest, r.Ref.Namespace, ct).ConfigureAwait(false) is not { } v)
                {
                    continue;
                }

                measured.Append(CultureInfo.InvariantCulture, $"{r.Ref.Kind}/{r.Ref.Namespace}/{r.Ref.Name} {path} {image} vulnerabilities {v.Decision}\n");
                evaluated.Add(NotScanned);
                if (v.Decision is VulnerabilityDecision.NoReport or VulnerabilityDecision.StaleReport)
                {
                    findings.Add(Finding(r, path, NotScanned, Engine.Model.Severity.Medium, $"container \"{container}\": {v.Message}",
                        "Scan the image in CI and post the result to Skjold, or run the Trivy operator."));
                    continue;
                }

                evaluated.Add(Vulnerable);
                if (v.Decision == VulnerabilityDecision.Vulnerable)
                {
                    findings.Add(Finding(r, path, Vulnerable, Engine.Model.Severity.High, $"container \"{container}\": {v.Message}",
                        "Rebuild on the fixed package versions and redeploy, or record a VEX not_affected statement."));
                }
            }
        }

        return new ExternalResults("supply chain (registry signatures and scan results)", findings, [.. evaluated.Order(StringComparer.Ordinal)], Encoding.UTF8.GetBytes(measured.ToString()));
    }

    private static Finding Finding(Resource r, string path, string check, Engine.Model.Severity severity, string message, string remediation) =>
        new(check, severity, r.Ref, path, message, remediation, r.Locate(path));

    /// <summary>/spec/template/spec/containers/0/image becomes spec.template.spec.containers[0].image.</summary>
    internal static string DottedPath(string pointer)
    {
        var sb = new StringBuilder();
        foreach (var part in pointer.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                sb.Append('[').Append(part).Append(']');
            }
            else
            {
                if (sb.Length > 0)
                {
                    sb.Append('.');
                }

                sb.Append(part);
            }
        }

        return sb.ToString();
    }
}
