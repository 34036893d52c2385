using System.Collections.Frozen;
using Skjold.Engine.Pss;

namespace Skjold.Engine.Admission;

/// <summary>
/// The <c>admission:</c> section of skjold.yaml. Pod Security modes for namespaces without
/// <c>pod-security.kubernetes.io/*</c> labels, actions for Skjold's own checks (overridable per
/// namespace), Pod Security Admission style exemptions, and the namespace label that opts into
/// mutation.
/// </summary>
public sealed record AdmissionSettings
{
    public static AdmissionSettings Default { get; } = new();

    public PssMode DefaultEnforce { get; init; } = new(PssLevel.Baseline, PssVersion.Latest);

    public PssMode DefaultAudit { get; init; } = new(PssLevel.Restricted, PssVersion.Latest);

    public PssMode DefaultWarn { get; init; } = new(PssLevel.Restricted, PssVersion.Latest);

    /// <summary>Action for Skjold checks not listed in <see cref="Actions"/>, at or above <see cref="WarnFrom"/>.</summary>
    public AdmissionAction DefaultAction { get; init; } = AdmissionAction.Warn;

    /// <summary>Checks below this severity that have no explicit action are only audited, to keep warnings few.</summary>
    public Model.Severity WarnFrom { get; init; } = Model.Severity.Medium;

    public FrozenDictionary<string, AdmissionAction> Actions { get; init; } = FrozenDictionary<string, AdmissionAction>.Empty;

    /// <summary>Per-namespace action overrides: namespace, then check id.</summary>
    public FrozenDictionary<string, FrozenDictionary<string, AdmissionAction>> NamespaceActions { get; init; } =
        FrozenDictionary<string, FrozenDictionary<string, AdmissionAction>>.Empty;

    public FrozenSet<string> ExemptUsernames { get; init; } = FrozenSet<string>.Empty;

    public FrozenSet<string> ExemptNamespaces { get; init; } = FrozenSet<string>.Empty;

    public FrozenSet<string> ExemptRuntimeClasses { get; init; } = FrozenSet<string>.Empty;

    /// <summary>Namespaces labelled <c>{MutationLabel}: enabled</c> get safe defaults added to their pods.</summary>
    public string MutationLabel { get; init; } = "skjold.io/mutate";

    public AdmissionAction ActionFor(string checkId, Model.Severity severity, string? ns)
    {
        if (ns is not null && NamespaceActions.TryGetValue(ns, out var overrides) && overrides.TryGetValue(checkId, out var a))
        {
            return a;
        }

        if (Actions.TryGetValue(checkId, out var action))
        {
            return action;
        }

        return severity >= WarnFrom || DefaultAction < AdmissionAction.Warn ? DefaultAction : AdmissionAction.Audit;
    }
}
