using System.Collections.Concurrent;
using System.Text.Json;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;
using Skjold.Engine.Policy;
using Skjold.Engine.Pss;

namespace Skjold.Engine.Admission;

/// <summary>
/// Decides admission requests with the same scanner as <c>skjold scan</c>, so the CLI and the
/// cluster agree. Pod Security follows Pod Security Admission: the namespace's enforce mode rejects
/// Pods (and ephemeral container updates); warn and audit modes also apply to workload controllers.
/// Skjold's own checks get the action configured for them (deny, warn, audit or off). Pure and
/// thread-safe.
/// </summary>
public sealed class AdmissionEvaluator
{
    /// <summary>Short enough for kubectl to print on one line.</summary>
    public const int MaxWarningLength = 119;

    private static readonly HashSet<string> ControllerKinds =
        ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicationController", "PodTemplate"];

    private readonly ScanPolicy _policy;
    private readonly CheckCatalog _catalog;
    private readonly TimeProvider _time;
    private readonly Scanner _skjoldScanner;
    private readonly ConcurrentDictionary<PssMode, Scanner> _pssScanners = new();
    private readonly string[] _workloadCheckIds;

    public AdmissionEvaluator(ScanPolicy policy, CheckCatalog? catalog = null, TimeProvider? time = null)
    {
        _policy = policy;
        _catalog = catalog ?? CheckCatalog.Default;
        _time = time ?? TimeProvider.System;
        _workloadCheckIds = _catalog.All.Where(c => !c.Id.StartsWith("pss/", StringComparison.Ordinal)).Select(c => c.Id).ToArray();
        // Expired exemptions are a finding of the configuration, not of the object being admitted.
        // One object at a time: checks across the cluster (RBAC, network policy, ...) belong to skjold scan.
        _skjoldScanner = new Scanner(policy.With(level: PssLevel.Privileged, disabled: policy.Disabled.Append("config/exemption-expired").Concat(Scanner.ClusterCheckIds)), _catalog, _time);
    }

    public AdmissionSettings Settings => _policy.Admission;

    /// <summary>Decides a validating request.</summary>
    public AdmissionVerdict Validate(AdmissionInput input, NamespacePolicy ns)
    {
        if (Skip(input) is { } skipped)
        {
            return skipped;
        }

        var settings = _policy.Admission;
        if (input.Namespace is { } n && settings.ExemptNamespaces.Contains(n))
        {
            return AdmissionVerdict.Allow(AdmissionVerdict.DecisionExempt, new Dictionary<string, string> { ["exempt"] = "namespace" });
        }

        if (settings.ExemptUsernames.Contains(input.Username))
        {
            return AdmissionVerdict.Allow(AdmissionVerdict.DecisionExempt, new Dictionary<string, string> { ["exempt"] = "user" });
        }

        if (input.Operation == "UPDATE" && !SignificantUpdate(input))
        {
            return AdmissionVerdict.Allow(AdmissionVerdict.DecisionUnchanged);
        }

        // The request's resource says what the object is (as Pod Security Admission decides), not
        // the object's own kind field; a pod whose spec is not shaped as the API defines is refused.
        if (PodShape.Problem(input.Object, input.Kind) is { } malformed)
        {
            return new AdmissionVerdict(false, AdmissionVerdict.DecisionDeny, $"malformed {input.Kind}: {malformed}", [],
                new Dictionary<string, string> { ["decision"] = "deny", ["malformed"] = malformed }, []);
        }

        var reference = Resource.ReadRef(input.Object) with { Kind = input.Kind };
        var resource = new Resource(input.Object, reference, new SourceLocation("admission:" + input.Uid, 0));
        var isPod = input.Kind == "Pod";
        var violations = new List<(string, string)>();
        var hasTemplate = isPod || ControllerKinds.Contains(input.Kind);
        var runtimeExempt = hasTemplate && RuntimeClass(resource) is { } rc && settings.ExemptRuntimeClasses.Contains(rc);

        var warnings = new List<string>();
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal);
        var findings = new List<Finding>();
        var denyParts = new List<string>();

        if (hasTemplate && !runtimeExempt)
        {
            // Enforce: only Pods are rejected; for controllers the enforce mode is reported as a warning.
            var enforce = PssFindings(resource, ns.Enforce);
            AddViolations(violations, enforce, "enforce");
            if (enforce.Count > 0)
            {
                findings.AddRange(enforce);
                annotations["pss-enforce-violations"] = $"{ns.Enforce}: {Ids(enforce)}";
                if (isPod)
                {
                    denyParts.Add(PodSecurityMessage(enforce, ns.Enforce, "violates"));
                }
            }

            var warn = ns.Warn == ns.Enforce ? enforce : PssFindings(resource, ns.Warn);
            AddViolations(violations, warn, "warn");
            if (!isPod && enforce.Count > 0)
            {
                // Controllers are never rejected by Pod Security; their pods would be, so say so now.
                warnings.AddRange(PodSecurityWarnings(enforce, ns.Enforce));
            }

            if (warn.Count > 0 && ns.Warn != ns.Enforce)
            {
                warnings.AddRange(PodSecurityWarnings(warn, ns.Warn));
            }

            var audit = ns.Audit == ns.Enforce ? enforce : PssFindings(resource, ns.Audit);
            AddViolations(violations, audit, "audit");
            if (audit.Count > 0)
            {
                annotations["pss-audit-violations"] = $"{ns.Audit}: {Ids(audit)}";
                AddDistinct(findings, audit);
            }

            AddDistinct(findings, warn);
        }
        else if (runtimeExempt)
        {
            annotations["exempt"] = "runtimeClass";
        }

        // Skjold's own checks: the same scanner and exemptions as the CLI, action per check and namespace.
        var result = _skjoldScanner.Scan([resource]);
        var audited = new List<string>();
        foreach (var f in result.Findings)
        {
            var action = settings.ActionFor(f.CheckId, f.Severity, input.Namespace);
            switch (action)
            {
                case AdmissionAction.Deny:
                    denyParts.Add($"{f.CheckId}: {f.Message}");
                    break;
                case AdmissionAction.Warn:
                    warnings.Add(Shorten($"skjold {f.CheckId}: {f.Message}"));
                    break;
                case AdmissionAction.Off:
                    continue;
                default:
                    break;
            }

            audited.Add(f.CheckId);
            findings.Add(f);
            violations.Add((f.CheckId, action switch { AdmissionAction.Deny => "deny", AdmissionAction.Warn => "warn", _ => "audit" }));
        }

        if (audited.Count > 0)
        {
            annotations["violations"] = string.Join(",", audited.Distinct(StringComparer.Ordinal));
        }

        if (result.Suppressed.Count > 0)
        {
            annotations["exemptions"] = string.Join(",", result.Suppressed.Select(s => s.Finding.CheckId).Distinct(StringComparer.Ordinal));
        }

        if (denyParts.Count > 0)
        {
            annotations["decision"] = "deny";
            return new AdmissionVerdict(false, AdmissionVerdict.DecisionDeny, string.Join("; ", denyParts), warnings, annotations, findings) { Violations = violations.Distinct().ToList() };
        }

        return new AdmissionVerdict(true, warnings.Count > 0 ? AdmissionVerdict.DecisionWarn : AdmissionVerdict.DecisionAllow, null, warnings, annotations, findings) { Violations = violations.Distinct().ToList() };
    }

    /// <summary>Computes mutations for a request; only Pod CREATE in namespaces that opted in is changed.</summary>
    public AdmissionVerdict Mutate(AdmissionInput input, NamespacePolicy ns)
    {
        if (input.Kind != "Pod" || input.Operation != "CREATE" || input.SubResource is { Length: > 0 } || !ns.Mutate)
        {
            return AdmissionVerdict.Allow(AdmissionVerdict.DecisionIgnored);
        }

        if ((input.Namespace is { } n && _policy.Admission.ExemptNamespaces.Contains(n)) || _policy.Admission.ExemptUsernames.Contains(input.Username))
        {
            return AdmissionVerdict.Allow(AdmissionVerdict.DecisionExempt);
        }

        var (patch, changes) = PodMutator.Mutate(input.Object);
        if (patch is null)
        {
            return AdmissionVerdict.Allow(AdmissionVerdict.DecisionAllow);
        }

        var annotations = new Dictionary<string, string>(StringComparer.Ordinal) { ["mutations"] = string.Join("; ", changes) };
        return new AdmissionVerdict(true, AdmissionVerdict.DecisionMutate, null, [], annotations, []) { Patch = patch, Mutations = changes };
    }

    private static AdmissionVerdict? Skip(AdmissionInput input)
    {
        if (input.SubResource is { Length: > 0 } sub && !(input.Kind == "Pod" && sub == "ephemeralcontainers"))
        {
            return AdmissionVerdict.Allow(AdmissionVerdict.DecisionIgnored);
        }

        if (input.Operation is not ("CREATE" or "UPDATE") || input.Object.ValueKind != JsonValueKind.Object)
        {
            return AdmissionVerdict.Allow(AdmissionVerdict.DecisionIgnored);
        }

        return null;
    }

    /// <summary>An UPDATE matters only when it changes what the checks read: spec, labels or annotations.</summary>
    private static bool SignificantUpdate(AdmissionInput input)
    {
        if (input.OldObject.ValueKind != JsonValueKind.Object)
        {
            return true;
        }

        static bool Same(JsonElement a, JsonElement b) =>
            a.ValueKind == b.ValueKind && (a.ValueKind == JsonValueKind.Undefined || JsonElement.DeepEquals(a, b));

        var newMeta = Json.Get(input.Object, "metadata"u8);
        var oldMeta = Json.Get(input.OldObject, "metadata"u8);
        return !(Same(Json.Get(input.Object, "spec"u8), Json.Get(input.OldObject, "spec"u8))
            && Same(Json.Get(input.Object, "template"u8), Json.Get(input.OldObject, "template"u8))
            && Same(Json.Get(newMeta, "labels"u8), Json.Get(oldMeta, "labels"u8))
            && Same(Json.Get(newMeta, "annotations"u8), Json.Get(oldMeta, "annotations"u8))
            && Same(Json.Get(input.Object, "type"u8), Json.Get(input.OldObject, "type"u8)));
    }

    private List<Finding> PssFindings(Resource resource, PssMode mode)
    {
        if (mode.Level == PssLevel.Privileged)
        {
            return [];
        }

        var scanner = _pssScanners.GetOrAdd(mode, m => new Scanner(_policy.With(m.Level, m.Version, _workloadCheckIds), _catalog, _time));
        return [.. scanner.Scan([resource]).Findings.Where(f => f.CheckId.StartsWith("pss/", StringComparison.Ordinal))];
    }

    private static string? RuntimeClass(Resource resource)
    {
        if (!PodTemplateView.TryLocate(resource.Root, resource.Ref.Kind, out var template, out _))
        {
            return null;
        }

        return Json.GetString(Json.Get(template, "spec"u8), "runtimeClassName");
    }

    /// <summary>Pod Security Admission's aggregate form: reason (detail, detail), reason (detail).</summary>
    internal static string PodSecurityMessage(IReadOnlyList<Finding> findings, PssMode mode, string verb)
    {
        var parts = findings.GroupBy(f => f.CheckId).Select(g =>
        {
            var (reason, _) = Split(g.First().Message);
            var details = g.Select(f => Split(f.Message).Detail).Where(d => d.Length > 0).Distinct(StringComparer.Ordinal);
            return $"{reason} ({string.Join(", ", details)})";
        });
        return $"{verb} PodSecurity \"{mode}\": {string.Join(", ", parts)}";
    }

    /// <summary>One short warning per violated check.</summary>
    internal static IEnumerable<string> PodSecurityWarnings(IReadOnlyList<Finding> findings, PssMode mode)
    {
        foreach (var g in findings.GroupBy(f => f.CheckId))
        {
            var (reason, detail) = Split(g.First().Message);
            var more = g.Count() > 1 ? $" (+{g.Count() - 1} more)" : string.Empty;
            yield return Shorten($"would violate PodSecurity \"{mode}\": {reason} ({detail}){more}");
        }
    }

    internal static string Shorten(string text) =>
        text.Length <= MaxWarningLength ? text : string.Concat(text.AsSpan(0, MaxWarningLength - 3), "...");

    /// <summary>Splits "violates PodSecurity "x:y": reason (detail)" into reason and detail.</summary>
    private static (string Reason, string Detail) Split(string message)
    {
        var start = message.IndexOf("\": ", StringComparison.Ordinal);
        var body = start >= 0 ? message[(start + 3)..] : message;
        var open = body.IndexOf(" (", StringComparison.Ordinal);
        return open > 0 && body.EndsWith(')') ? (body[..open], body[(open + 2)..^1]) : (body, string.Empty);
    }

    private static string Ids(IReadOnlyList<Finding> findings) =>
        string.Join(",", findings.Select(f => f.CheckId).Distinct(StringComparer.Ordinal));

    /// <summary>Each finding's check under <paramref name="mode"/>; the verdict's Violations are made distinct once, at the end.</summary>
    private static void AddViolations(List<(string, string)> into, List<Finding> findings, string mode)
    {
        foreach (var f in findings)
        {
            into.Add((f.CheckId, mode));
        }
    }

    private static void AddDistinct(List<Finding> into, List<Finding> from)
    {
        foreach (var f in from)
        {
            if (!into.Any(x => x.CheckId == f.CheckId && x.Path == f.Path))
            {
                into.Add(f);
            }
        }
    }
}
