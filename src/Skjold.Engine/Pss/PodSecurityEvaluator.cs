using Skjold.Engine.Checks;
using Skjold.Engine.Pss.Checks;

namespace Skjold.Engine.Pss;

/// <summary>
/// Evaluates a pod template against a Pod Security Standards level and version with Pod Security
/// Admission's semantics. Where a restricted check replaces a baseline one (restrictedVolumes for
/// hostPathVolumes, for example), the baseline check runs only when the restricted one fails, so a
/// pod the restricted check exempts (Windows pods from v1.25) is allowed exactly as upstream; when
/// both fail, each reports under its own name.
/// </summary>
internal sealed class PodSecurityEvaluator
{
    private static readonly PssCheck[] AllChecks =
    [
        new HostNamespacesCheck(),
        new PrivilegedCheck(),
        new CapabilitiesBaselineCheck(),
        new HostPathVolumesCheck(),
        new HostPortsCheck(),
        new AppArmorProfileCheck(),
        new SeLinuxOptionsCheck(),
        new ProcMountCheck(restricted: false),
        new SeccompProfileBaselineCheck(),
        new SysctlsCheck(),
        new WindowsHostProcessCheck(),
        new HostProbesAndHostLifecycleCheck(),
        new RestrictedVolumesCheck(),
        new AllowPrivilegeEscalationCheck(),
        new RunAsNonRootCheck(),
        new RunAsUserCheck(),
        new SeccompProfileRestrictedCheck(),
        new CapabilitiesRestrictedCheck(),
        new ProcMountCheck(restricted: true),
    ];

    // Per level and minor version: the plan of checks to run.
    private readonly Plan[] _baseline = new Plan[PssVersion.NewestKnownMinor + 1];
    private readonly Plan[] _restricted = new Plan[PssVersion.NewestKnownMinor + 1];

    public static PodSecurityEvaluator Instance { get; } = new();

    private PodSecurityEvaluator()
    {
        for (var minor = 0; minor <= PssVersion.NewestKnownMinor; minor++)
        {
            _baseline[minor] = BuildPlan(PssLevel.Baseline, minor);
            _restricted[minor] = BuildPlan(PssLevel.Restricted, minor);
        }
    }

    /// <summary>Every check, for listing.</summary>
    public static IReadOnlyList<PssCheck> Checks => AllChecks;

    public void Evaluate(PodTemplateView pod, PssLevel level, PssVersion version, ViolationSink report)
    {
        report.BeginPodSecurity(level, version);
        if (level == PssLevel.Privileged)
        {
            return;
        }

        var minor = version.EffectiveMinor;
        var plan = level == PssLevel.Baseline ? _baseline[minor] : _restricted[minor];
        foreach (var check in plan.Plain)
        {
            report.SetCheck(check.CheckId);
            check.Evaluate(pod, minor, report);
        }

        foreach (var (restricted, baseline) in plan.Overrides)
        {
            var start = report.Items.Count;
            report.SetCheck(restricted.CheckId);
            restricted.Evaluate(pod, minor, report);
            if (report.Items.Count == start)
            {
                // The stricter check allows the pod, so the check it replaces does not run.
                continue;
            }

            // The pod fails the stricter check, so it also reports what the replaced baseline check
            // finds: a violation of both is reported under both names.
            report.SetCheck(baseline.CheckId);
            baseline.Evaluate(pod, minor, report);
        }
    }

    private static Plan BuildPlan(PssLevel level, int minor)
    {
        var active = AllChecks.Where(c => c.Level <= level && c.MinMinor <= minor).ToList();
        var overrides = new List<(PssCheck Restricted, PssCheck Baseline)>();
        var replaced = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in active)
        {
            if (r.Overrides is { } name && active.FirstOrDefault(c => c.Name == name) is { } b)
            {
                overrides.Add((r, b));
                replaced.Add(r.Name);
                replaced.Add(b.Name);
            }
        }

        var plain = active.Where(c => !replaced.Contains(c.Name)).ToArray();
        return new Plan(plain, [.. overrides]);
    }

    private sealed record Plan(PssCheck[] Plain, (PssCheck Restricted, PssCheck Baseline)[] Overrides);
}
