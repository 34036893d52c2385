using System.Collections.Frozen;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;
using Skjold.Engine.Pss;

namespace Skjold.Engine.Policy;

/// <summary>
/// Everything that decides how resources are judged: the Pod Security level and version, which
/// checks run and at what severity, trusted registries and exemptions. Built from skjold.yaml
/// and flags; immutable.
/// </summary>
public sealed class ScanPolicy
{
    public ScanPolicy(
        PssLevel pssLevel,
        PssVersion pssVersion,
        IEnumerable<string>? disabled = null,
        IEnumerable<string>? enabled = null,
        IReadOnlyDictionary<string, Severity>? severities = null,
        IReadOnlyList<string>? trustedRegistries = null,
        IReadOnlyList<Exemption>? exemptions = null,
        string? source = null)
    {
        PssLevel = pssLevel;
        PssVersion = pssVersion;
        Disabled = (disabled ?? []).ToFrozenSet(StringComparer.Ordinal);
        Enabled = (enabled ?? []).ToFrozenSet(StringComparer.Ordinal);
        Severities = (severities ?? new Dictionary<string, Severity>()).ToFrozenDictionary(StringComparer.Ordinal);
        TrustedRegistries = trustedRegistries ?? [];
        Exemptions = exemptions ?? [];
        Source = source;
    }

    public static ScanPolicy Default { get; } = new(PssLevel.Restricted, PssVersion.Latest);

    public PssLevel PssLevel { get; }

    public PssVersion PssVersion { get; }

    public FrozenSet<string> Disabled { get; }

    public FrozenSet<string> Enabled { get; }

    public FrozenDictionary<string, Severity> Severities { get; }

    public IReadOnlyList<string> TrustedRegistries { get; }

    public IReadOnlyList<Exemption> Exemptions { get; }

    /// <summary>The config file this policy came from, if any.</summary>
    public string? Source { get; }

    public bool IsEnabled(CheckMetadata check) =>
        !Disabled.Contains(check.Id) && !DisabledByPattern(check.Id) && (check.DefaultEnabled || Enabled.Contains(check.Id));

    public Severity SeverityOf(CheckMetadata check) => Severities.TryGetValue(check.Id, out var s) ? s : check.Severity;

    /// <summary>The Kubernetes minor version manifests must work on (the <c>upgrade.targetVersion</c> key); defaults to the newest known.</summary>
    public int UpgradeTargetMinor { get; init; } = Pss.PssVersion.NewestKnownMinor;

    /// <summary>
    /// The Kubernetes minor version manifests are judged for (<c>--kube-version</c>) when the input is
    /// not a snapshot that records it; null: the oldest minor still supported upstream.
    /// </summary>
    public int? KubeMinor { get; init; }

    /// <summary>The namespace of namespaced objects that name none (<c>--namespace</c>, as kubectl apply -n). Default "default".</summary>
    public string DefaultNamespace { get; init; } = "default";

    /// <summary>Where data may live: <c>eea</c> (default), <c>eu</c>, or explicit region names (the <c>residency.allowed</c> key).</summary>
    public IReadOnlyList<string> AllowedRegions { get; init; } = ["eea"];

    /// <summary>Where Skjold itself sends data (audit store, alert destinations), with their regions (<c>residency.destinations</c>).</summary>
    public IReadOnlyList<(string Name, string Region)> DataDestinations { get; init; } = [];

    /// <summary>How `skjold serve` applies this policy at admission (the <c>admission:</c> section).</summary>
    public Admission.AdmissionSettings Admission { get; init; } = Engine.Admission.AdmissionSettings.Default;

    /// <summary>Attestations for controls software cannot check (the <c>attestations:</c> section).</summary>
    public IReadOnlyList<Compliance.Attestation> Attestations { get; init; } = [];

    public ScanPolicy With(PssLevel? level = null, PssVersion? version = null, IEnumerable<string>? disabled = null) =>
        Copy(level ?? PssLevel, version ?? PssVersion, disabled ?? Disabled, KubeMinor, DefaultNamespace);

    /// <summary>The same policy judging manifests for another Kubernetes minor or placing namespace-less objects elsewhere.</summary>
    public ScanPolicy With(int? kubeMinor, string defaultNamespace) => Copy(PssLevel, PssVersion, Disabled, kubeMinor, defaultNamespace);

    /// <summary>The same policy with more attestations (drills recorded in the trail, for instance).</summary>
    public ScanPolicy WithAttestations(IEnumerable<Compliance.Attestation> more)
    {
        var copy = Copy(PssLevel, PssVersion, Disabled, KubeMinor, DefaultNamespace);
        return new ScanPolicy(copy.PssLevel, copy.PssVersion, copy.Disabled, copy.Enabled, copy.Severities, copy.TrustedRegistries, copy.Exemptions, copy.Source)
        {
            Admission = Admission,
            UpgradeTargetMinor = UpgradeTargetMinor,
            AllowedRegions = AllowedRegions,
            DataDestinations = DataDestinations,
            Attestations = [.. Attestations, .. more],
            KubeMinor = KubeMinor,
            DefaultNamespace = DefaultNamespace,
        };
    }

    private ScanPolicy Copy(PssLevel level, PssVersion version, IEnumerable<string> disabled, int? kubeMinor, string defaultNamespace) =>
        new(level, version, disabled, Enabled, Severities, TrustedRegistries, Exemptions, Source)
        {
            Admission = Admission,
            UpgradeTargetMinor = UpgradeTargetMinor,
            AllowedRegions = AllowedRegions,
            DataDestinations = DataDestinations,
            Attestations = Attestations,
            KubeMinor = kubeMinor,
            DefaultNamespace = defaultNamespace,
        };

    private bool DisabledByPattern(string id)
    {
        foreach (var d in Disabled)
        {
            if (d.EndsWith('*') && Exemption.Glob(d, id))
            {
                return true;
            }
        }

        return false;
    }
}
