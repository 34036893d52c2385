using System.Security.Cryptography.X509Certificates;
using Skjold.SupplyChain.Oci;
using Skjold.SupplyChain.Sigstore;

namespace Skjold.SupplyChain.Policy;

/// <summary>The <c>supplyChain:</c> section of skjold.yaml, read and checked.</summary>
public sealed record SupplyChainSettings
{
    public static SupplyChainSettings None { get; } = new();

    /// <summary>The trust material for keyless signatures and transparency log entries; null when none is configured.</summary>
    public TrustedRoot? TrustedRoot { get; init; }

    public RegistryClientOptions Registry { get; init; } = new();

    /// <summary>Extra CA certificates for private registries.</summary>
    public X509Certificate2Collection? RegistryTrust { get; init; }

    /// <summary>How long a verified digest stays verified without asking the registry again.</summary>
    public TimeSpan CacheTtl { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a failed verification is remembered (short, so a newly pushed signature is seen soon).</summary>
    public TimeSpan NegativeCacheTtl { get; init; } = TimeSpan.FromSeconds(30);

    public int CacheSize { get; init; } = 10_000;

    public IReadOnlyList<ImageRule> Rules { get; init; } = [];

    public IReadOnlyList<ImageExemption> Exemptions { get; init; } = [];

    /// <summary>The vulnerability gate (supplyChain.vulnerabilities), or null when not configured.</summary>
    public Vulnerabilities.VulnerabilityPolicy? Vulnerabilities { get; init; }

    /// <summary>Scan results and VEX statements known now (read from the configured files; CI and the cluster add more).</summary>
    public Vulnerabilities.VulnerabilityReportStore Reports { get; init; } = new();

    public bool Enabled => Rules.Count > 0 || Vulnerabilities is not null;
}
