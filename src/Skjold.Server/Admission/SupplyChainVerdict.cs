using System.Text;
using Skjold.Engine.Admission;
using Skjold.SupplyChain.Admission;

namespace Skjold.Server.Admission;

/// <summary>Folds the supply-chain gate's answer into the admission verdict: its denials deny, its warnings warn, its digest pins join the patch.</summary>
internal static class SupplyChainVerdict
{
    public const string Annotation = "skjold.io/images";

    public static AdmissionVerdict Merge(AdmissionVerdict verdict, ImageAdmissionResult gate)
    {
        if (gate.Checks.Count == 0)
        {
            return verdict;
        }

        var annotations = new Dictionary<string, string>(verdict.AuditAnnotations);
        if (gate.Summary() is { Length: > 0 } summary)
        {
            annotations[Annotation] = summary;
        }

        var warnings = new List<string>(verdict.Warnings);
        warnings.AddRange(gate.Warnings);
        if (gate.Denied)
        {
            var message = "Skjold supply-chain policy: " + string.Join("; ", gate.Denials);
            return new AdmissionVerdict(false, AdmissionVerdict.DecisionDeny, message, warnings, annotations, verdict.Findings)
            {
                Violations = verdict.Violations,
            };
        }

        var patch = verdict.Patch;
        var mutations = new List<string>(verdict.Mutations);
        if (gate.Pins.Count > 0)
        {
            var ops = string.Join(",", gate.PatchOperations());
            var existing = patch is { Length: > 2 } ? Encoding.UTF8.GetString(patch).TrimEnd()[1..^1].Trim() : "";
            patch = Encoding.UTF8.GetBytes("[" + (existing.Length > 0 ? existing + "," : "") + ops + "]");
            foreach (var (pointer, value) in gate.Pins)
            {
                mutations.Add($"{pointer} pinned to {value}");
            }
        }

        var decision = gate.Pins.Count > 0 ? AdmissionVerdict.DecisionMutate : verdict.Decision;
        return verdict with
        {
            Decision = decision,
            Warnings = warnings,
            AuditAnnotations = annotations,
            Patch = patch,
            Mutations = mutations,
        };
    }
}
