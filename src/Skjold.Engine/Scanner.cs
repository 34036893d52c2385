using System.Globalization;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;
using Skjold.Engine.Policy;
using Skjold.Engine.Pss;
using Skjold.Engine.Workloads;

namespace Skjold.Engine;

/// <summary>
/// Runs every enabled check over a set of resources and applies the policy: severities,
/// exemptions and inline suppressions. Pure: no I/O, and the same input gives the same output.
/// One instance can serve many scans; it is safe to use from several threads.
/// </summary>
public sealed partial class Scanner
{
    public const string SuppressAnnotation = "skjold.io/suppress";
    public const string SuppressReasonAnnotation = "skjold.io/suppress-reason";

    private static readonly WorkloadCheck[] WorkloadChecks =
    [
        new TrustedRegistryCheck(),
        new ImageTagCheck(),
        new ImageDigestCheck(),
        new ResourceRequestsCheck(),
        new MemoryLimitCheck(),
        new ProbeCheck(liveness: true),
        new ProbeCheck(liveness: false),
        new ReadOnlyRootFilesystemCheck(),
        new ServiceAccountTokenCheck(),
        new SecretEnvCheck(),
        new CredentialLiteralCheck(),
        new ServiceExposedCheck(),
        new DefaultNamespaceCheck(),
        new ReplicasCheck(),
        new PodDisruptionBudgetCheck(),
        new JobTtlCheck(),
        new NetRawCheck(),
    ];

    private const int ParallelThreshold = 2048;
    private const int SliceSize = 512;

    private static readonly Cluster.ClusterCheck[] ClusterChecks =
    [
        new Cluster.RbacChecks(),
        new Cluster.SecretsChecks(),
        new Cluster.UpgradeChecks(),
        new Cluster.ResidencyChecks(),
        new Cluster.NetworkChecks(),
    ];

    [ThreadStatic]
    private static Scratch? t_scratch;

    private readonly CheckCatalog _catalog;
    private readonly TimeProvider _time;
    private readonly WorkloadCheck[] _enabledWorkloadChecks;

    /// <summary>The cluster checks with at least one check the policy enables (the policy is fixed per scanner).</summary>
    private readonly Cluster.ClusterCheck[] _enabledClusterChecks;

    private readonly bool _pssEnabled;

    public Scanner(ScanPolicy policy, CheckCatalog? catalog = null, TimeProvider? time = null)
        : this(policy, catalog, time, WorkloadChecks, ClusterChecks)
    {
    }

    /// <summary>A scanner with its own check lists (tests, and mutation testing without restarting the host per mutant).</summary>
    internal Scanner(ScanPolicy policy, CheckCatalog? catalog, TimeProvider? time, IReadOnlyList<WorkloadCheck> workloadChecks, IReadOnlyList<Cluster.ClusterCheck> clusterChecks, bool podSecurity = true)
    {
        Policy = policy;
        _catalog = catalog ?? CheckCatalog.Default;
        _time = time ?? TimeProvider.System;
        _enabledWorkloadChecks = workloadChecks.Where(c => Policy.IsEnabled(_catalog[c.Id])).ToArray();
        _enabledClusterChecks = [.. clusterChecks.Where(c => c.Ids.Any(id => Policy.IsEnabled(_catalog[id])))];
        _pssEnabled = podSecurity && PodSecurityEvaluator.Checks.Any(c => Policy.IsEnabled(_catalog[c.CheckId]));
    }

    public ScanPolicy Policy { get; }

    /// <summary>Checks that look across the whole input (RBAC, secrets, upgrades, residency, network policy); they need a cluster's worth of objects, not one.</summary>
    public static IEnumerable<string> ClusterCheckIds => ClusterChecks.SelectMany(c => c.Ids);

    /// <summary>
    /// Checks of the catalog that hosts run because they need I/O the pure scanner does not do (registries, scan
    /// results): Skjold.SupplyChain produces their findings and says when they were evaluated (<see cref="ExternalResults"/>).
    /// </summary>
    public static IReadOnlyList<string> HostCheckIds { get; } = ["sc/image-signature", "sc/image-vulnerable", "sc/image-not-scanned"];

    /// <summary>The ids of every check the engine implements, for catalog consistency tests.</summary>
    public static IEnumerable<string> ImplementedCheckIds =>
        PodSecurityEvaluator.Checks.Select(c => c.CheckId).Concat(WorkloadChecks.Select(c => c.Id)).Concat(ClusterChecks.SelectMany(c => c.Ids)).Append("config/exemption-expired");

    /// <summary>Scans <paramref name="resources"/> together (cross-resource checks see each other).</summary>
    public ScanResult Scan(IReadOnlyList<Resource> resources, IReadOnlyList<Diagnostic>? inputDiagnostics = null)
    {
        var findings = new List<Finding>();
        var suppressed = new List<SuppressedFinding>();
        var diagnostics = Scan(resources, inputDiagnostics, findings.Add, suppressed.Add);
        return new ScanResult(findings, suppressed, diagnostics, resources.Count);
    }

    /// <summary>Slices evaluated in parallel before their findings are handed on, in input order.</summary>
    private const int SlicesInFlight = 8;

    /// <summary>
    /// Scans <paramref name="resources"/> together and hands every finding to
    /// <paramref name="onFinding"/> as soon as its part of the input is done, in input order (then
    /// the findings across resources), so a caller that writes them out holds only a few thousand
    /// at a time. Returns the diagnostics (the input's and the scan's).
    /// </summary>
    public List<Diagnostic> Scan(IReadOnlyList<Resource> resources, IReadOnlyList<Diagnostic>? inputDiagnostics, Action<Finding> onFinding, Action<SuppressedFinding> onSuppressed, IProgress<int>? progress = null)
    {
        var index = new ResourceIndex(resources);
        var diagnostics = new List<Diagnostic>(inputDiagnostics ?? []);
        var now = _time.GetUtcNow();
        var findings = new List<Finding>();
        var suppressed = new List<SuppressedFinding>();
        void Flush()
        {
            foreach (var f in findings)
            {
                onFinding(f);
            }

            foreach (var x in suppressed)
            {
                onSuppressed(x);
            }

            findings.Clear();
            suppressed.Clear();
        }

        if (resources.Count < ParallelThreshold || Environment.ProcessorCount == 1)
        {
            for (var i = 0; i < resources.Count; i++)
            {
                Evaluate(resources[i], index, now, findings, suppressed, diagnostics);
                if (findings.Count >= 4096)
                {
                    Flush();
                }

                if ((i & 1023) == 1023)
                {
                    progress?.Report(i + 1);
                }
            }

            Flush();
        }
        else
        {
            // Resources are independent once the index is built: evaluate a window of slices in
            // parallel and hand them on in input order, so the output does not depend on scheduling
            // and memory does not grow with the input.
            var slices = (resources.Count + SliceSize - 1) / SliceSize;
            var parts = new (List<Finding> F, List<SuppressedFinding> S, List<Diagnostic> D)[Math.Min(slices, SlicesInFlight)];
            for (var window = 0; window < slices; window += SlicesInFlight)
            {
                var count = Math.Min(SlicesInFlight, slices - window);
                var first = window;
                Parallel.For(0, count, k =>
                {
                    var part = (new List<Finding>(), new List<SuppressedFinding>(), new List<Diagnostic>());
                    var i = first + k;
                    var end = Math.Min(resources.Count, (i + 1) * SliceSize);
                    for (var j = i * SliceSize; j < end; j++)
                    {
                        Evaluate(resources[j], index, now, part.Item1, part.Item2, part.Item3);
                    }

                    parts[k] = part;
                });
                for (var k = 0; k < count; k++)
                {
                    findings.AddRange(parts[k].F);
                    suppressed.AddRange(parts[k].S);
                    diagnostics.AddRange(parts[k].D);
                    parts[k] = default;
                }

                Flush();
                progress?.Report(Math.Min(resources.Count, (window + count) * SliceSize));
            }
        }

        EvaluateCluster(resources, index, now, findings, suppressed, diagnostics);
        ReportExpiredExemptions(now, findings);
        Flush();
        return diagnostics;
    }

    /// <summary>Evaluates one resource, appending to the given lists.</summary>
    public void Evaluate(
        Resource resource,
        ResourceIndex index,
        DateTimeOffset now,
        List<Finding> findings,
        List<SuppressedFinding> suppressed,
        List<Diagnostic> diagnostics)
    {
        var scratch = t_scratch ??= new Scratch();
        var sink = scratch.Sink;
        sink.Clear();
        PodTemplateView? pod = null;
        if (PodTemplateView.TryLocate(resource.Root, resource.Ref.Kind, out var template, out var templatePath))
        {
            if (index.IsCoveredByController(resource))
            {
                return; // reported once, on its controller
            }

            pod = scratch.Pod;
            pod.Read(template, templatePath);
            if (_pssEnabled)
            {
                PodSecurityEvaluator.Instance.Evaluate(pod, Policy.PssLevel, Policy.PssVersion, sink);
            }
        }

        var input = scratch.Input;
        input.Resource = resource;
        input.Pod = pod;
        input.Policy = Policy;
        input.Index = index;
        foreach (var check in _enabledWorkloadChecks)
        {
            sink.SetCheck(check.Id);
            check.Evaluate(input, sink);
        }

        if (sink.Items.Count == 0)
        {
            return;
        }

        // Findings of one resource in file order; resources stay in input order.
        var start = findings.Count;
        var inline = InlineSuppression.Read(resource, diagnostics);
        foreach (var v in sink.Items)
        {
            Route(v.CheckId, resource, v.Path, v.Message, inline, now, findings, suppressed);
        }

        if (findings.Count - start > 1)
        {
            findings.Sort(start, findings.Count - start, ByLine.Instance);
        }
    }

    /// <summary>Runs the checks that look across resources (RBAC, secrets, upgrades, residency).</summary>
    private void EvaluateCluster(IReadOnlyList<Resource> resources, ResourceIndex index, DateTimeOffset now,
        List<Finding> findings, List<SuppressedFinding> suppressed, List<Diagnostic> diagnostics)
    {
        var checks = _enabledClusterChecks;
        if (checks.Length == 0)
        {
            return;
        }

        var context = new Cluster.ClusterContext(resources, index, Policy, now);
        var sink = new Cluster.ClusterSink();
        foreach (var check in checks)
        {
            check.Evaluate(context, sink);
        }

        diagnostics.AddRange(context.Diagnostics);

        var inline = new Dictionary<Resource, InlineSuppression?>(ReferenceEqualityComparer.Instance);
        foreach (var (checkId, resource, path, message) in sink.Items)
        {
            if (!inline.TryGetValue(resource, out var suppression))
            {
                inline[resource] = suppression = InlineSuppression.Read(resource, diagnostics);
            }

            Route(checkId, resource, path, message, suppression, now, findings, suppressed);
        }
    }

    /// <summary>
    /// The one place a violation becomes a finding: dropped when its check is disabled, its
    /// severity set by the policy, then waived by the resource's annotation or an exemption, or kept.
    /// </summary>
    private void Route(string checkId, Resource resource, string path, string message, InlineSuppression? inline, DateTimeOffset now,
        List<Finding> findings, List<SuppressedFinding> suppressed)
    {
        var meta = _catalog[checkId];
        if (!Policy.IsEnabled(meta))
        {
            return;
        }

        var finding = new Finding(checkId, Policy.SeverityOf(meta), resource.Ref, path, message, meta.Remediation, resource.Locate(path));
        if (inline is not null && inline.Covers(checkId))
        {
            suppressed.Add(new SuppressedFinding(finding, inline.Reason, "annotation " + SuppressAnnotation));
        }
        else if (FindExemption(checkId, resource, now) is { } exemption)
        {
            suppressed.Add(new SuppressedFinding(finding, exemption.Reason, exemption.Location?.ToString() ?? "skjold.yaml"));
        }
        else
        {
            findings.Add(finding);
        }
    }

    private Exemption? FindExemption(string checkId, Resource resource, DateTimeOffset now)
    {
        foreach (var e in Policy.Exemptions)
        {
            if (!e.IsExpired(now) && e.Covers(checkId, resource))
            {
                return e;
            }
        }

        return null;
    }

    private void ReportExpiredExemptions(DateTimeOffset now, List<Finding> findings)
    {
        var meta = _catalog["config/exemption-expired"];
        if (!Policy.IsEnabled(meta))
        {
            return;
        }

        for (var i = 0; i < Policy.Exemptions.Count; i++)
        {
            var e = Policy.Exemptions[i];
            if (!e.IsExpired(now))
            {
                continue;
            }

            var expires = e.Expires!.Value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            findings.Add(new Finding(
                meta.Id,
                Policy.SeverityOf(meta),
                new ResourceRef("skjold.io/v1alpha1", "Exemption", null, $"exemptions[{i}]"),
                $"exemptions[{i}].expires",
                $"exemption for {string.Join(", ", e.Checks)} expired on {expires} and no longer applies (reason given: {e.Reason})",
                meta.Remediation,
                e.Location));
        }
    }

    private sealed class ByLine : IComparer<Finding>
    {
        public static ByLine Instance { get; } = new();

        public int Compare(Finding? x, Finding? y)
        {
            var c = (x!.Location?.Line ?? 0).CompareTo(y!.Location?.Line ?? 0);
            if (c != 0)
            {
                return c;
            }

            c = string.CompareOrdinal(x.Path, y.Path);
            return c != 0 ? c : string.CompareOrdinal(x.CheckId, y.CheckId);
        }
    }

    private sealed class Scratch
    {
        public ViolationSink Sink { get; } = new();

        public PodTemplateView Pod { get; } = new();

        public EvaluationInput Input { get; } = new() { Resource = null!, Policy = ScanPolicy.Default, Index = ResourceIndex.Empty };
    }
}
