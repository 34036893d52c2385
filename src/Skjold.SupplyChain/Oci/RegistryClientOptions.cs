namespace Skjold.SupplyChain.Oci;

/// <summary>Limits and trust for registry requests.</summary>
public sealed record RegistryClientOptions
{
    /// <summary>Plain HTTP to a registry on a loopback address (127.0.0.0/8, ::1, localhost); never to anything else.</summary>
    public bool AllowHttpLoopback { get; init; }

    /// <summary>Per request, including the token exchange.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The distribution spec's recommended manifest limit.</summary>
    public long MaxManifestBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Blobs Skjold reads are signatures, bundles and configs, never layers.</summary>
    public long MaxBlobBytes { get; init; } = 16 * 1024 * 1024;

    public int MaxRedirects { get; init; } = 3;

    public RegistryCredentials Credentials { get; init; } = RegistryCredentials.None;
}
