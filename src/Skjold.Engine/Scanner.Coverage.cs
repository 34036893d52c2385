using Skjold.Engine.Checks;
using Skjold.Engine.Model;
using Skjold.Engine.Pss;

namespace Skjold.Engine;

/// <summary>Which checks a scan of an input actually runs, so that a check whose kinds are absent is not counted as passed.</summary>
public sealed partial class Scanner
{
    /// <summary>
    /// Which of this scanner's checks actually run on this input: a check is evaluated when it is enabled
    /// and the input holds the kinds it reads (RBAC checks need RBAC objects, node-region checks need
    /// nodes, ...), so that an absent kind does not count as a pass. Compliance reports use it; admission does not
    /// need it, so <see cref="Scan"/> does not compute it.
    /// </summary>
    public HashSet<string> EvaluatedChecks(IReadOnlyList<Resource> resources)
    {
        var kinds = resources.Select(r => r.Kind).ToHashSet(StringComparer.Ordinal);
        var pss = PodSecurityChecksThatRun();
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in ImplementedCheckIds)
        {
            if (!_catalog.TryGet(id, out var meta) || !Policy.IsEnabled(meta))
            {
                continue;
            }

            // What the check reads (checks.yaml reads:) must be in the input, and what it requires of the policy given.
            var reads = meta.Reads.Count == 0;
            foreach (var kind in meta.Reads)
            {
                reads |= kind == CheckMetadata.AnyKind ? resources.Count > 0 : kinds.Contains(kind);
            }

            var requires = true;
            foreach (var r in meta.Requires)
            {
                requires &= r switch
                {
                    Requirements.Exemptions => Policy.Exemptions.Count > 0,
                    Requirements.TrustedRegistries => Policy.TrustedRegistries.Count > 0,
                    Requirements.DataDestinations => Policy.DataDestinations.Count > 0,
                    Requirements.PssLevel => pss.Contains(id),
                    _ => false,
                };
            }

            if (reads && requires)
            {
                set.Add(id);
            }
        }

        return set;
    }

    /// <summary>
    /// The Pod Security checks the policy's level and version run: none at privileged, the baseline
    /// ones at baseline, and at restricted every check except the baseline checks a restricted one
    /// replaces; a check newer than the version does not run.
    /// </summary>
    private HashSet<string> PodSecurityChecksThatRun()
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        if (Policy.PssLevel == PssLevel.Privileged)
        {
            return set;
        }

        var minor = Policy.PssVersion.EffectiveMinor;
        var applicable = PodSecurityEvaluator.Checks.Where(c => c.MinMinor <= minor && (c.Level == PssLevel.Baseline || Policy.PssLevel == PssLevel.Restricted)).ToList();
        var replaced = applicable.Where(c => c.Overrides is not null).Select(c => c.Overrides!).ToHashSet(StringComparer.Ordinal);
        foreach (var c in applicable)
        {
            if (!replaced.Contains(c.Name))
            {
                set.Add(c.CheckId);
            }
        }

        return set;
    }
}
