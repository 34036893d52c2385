using System.Security.Cryptography;
using Skjold.Engine;
using Skjold.Engine.Checks;
using Skjold.Engine.Compliance;
using Skjold.Engine.Model;
using Skjold.Engine.Policy;

namespace Skjold.Reports.Evidence;

/// <summary>
/// The compliance evidence pipeline: scan the inputs, merge node results, digest everything that
/// was measured, and evaluate one framework's controls (with a diff against a baseline). The CLI's
/// <c>report</c>, <c>serve</c> and the dashboard build reports through this one path.
/// </summary>
public sealed class EvidenceBuilder(ScanPolicy policy, CheckCatalog catalog, TimeProvider time, string toolVersion, string baseDirectory)
{
    /// <summary>Builds the report of <paramref name="framework"/> on <paramref name="inputs"/>.</summary>
    /// <param name="progress">How many resources have been scanned, for long inputs.</param>
    /// <exception cref="EvidenceInputException">a node-results file is not a node-check report, or the baseline is of another framework</exception>
    public ComplianceReport Build(Framework framework, EvidenceInputs inputs, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(framework);
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Baseline is { } b && b.Framework != framework.Id)
        {
            throw new EvidenceInputException(EvidenceInputKind.Baseline, $"the baseline is a {b.Framework} report, not {framework.Id}");
        }

        var resources = inputs.Resources;
        var scanner = new Scanner(policy, catalog, time);

        // Only findings of checks the framework maps to a control count in its report: the rest
        // are not held (a large input can have millions). Places are made relative to the base
        // directory as they arrive (a report leaves this machine's paths behind), once per file.
        var mapped = framework.ChecksByControl.Values.SelectMany(ids => ids).ToHashSet(StringComparer.Ordinal);
        var findings = new List<Finding>();
        var waived = new List<SuppressedFinding>();
        var relative = SourcePaths.PerFile(baseDirectory);
        scanner.Scan(resources, null, f =>
        {
            if (mapped.Contains(f.CheckId))
            {
                findings.Add(f with { Location = relative(f.Location) });
            }
        }, s =>
        {
            if (mapped.Contains(s.Finding.CheckId))
            {
                waived.Add(s);
            }
        }, progress);

        var evaluated = resources.Count > 0 ? scanner.EvaluatedChecks(resources) : [];
        var labels = new List<string>(inputs.ResourceLabels);
        using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var r in resources)
        {
            digest.AppendData(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(r.Root));
            digest.AppendData("\n"u8);
        }

        foreach (var file in inputs.NodeResults)
        {
            digest.AppendData(file.Bytes);
            var node = NodeResults.Read(file.Bytes, file.Name, catalog);
            findings.AddRange(node.Findings);
            evaluated.UnionWith(node.EvaluatedChecks);
            labels.Add(file.Name);
        }

        foreach (var external in inputs.External)
        {
            digest.AppendData(external.Measured);
            findings.AddRange(external.Findings);
            evaluated.UnionWith(external.EvaluatedChecks);
            labels.Add(external.Label);
        }

        if (inputs.Configuration is { } config)
        {
            digest.AppendData(config.Bytes);
            labels.Add($"{config.Name} (configuration)");
        }

        return ComplianceEvaluator.Evaluate(framework, findings, waived, evaluated, policy, catalog, time.GetUtcNow(), toolVersion,
            "sha256:" + Convert.ToHexStringLower(digest.GetHashAndReset()), labels,
            inputs.Baseline is { } baseline ? (baseline.GeneratedAt, baseline.Score, baseline.Statuses) : null, inputs.Baseline?.InputDigest);
    }
}
