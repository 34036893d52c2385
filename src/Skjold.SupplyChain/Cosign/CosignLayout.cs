namespace Skjold.SupplyChain.Cosign;

/// <summary>Names cosign uses for signatures stored beside an image.</summary>
public static class CosignLayout
{
    /// <summary>Media type of the simple-signing payload layer of a legacy signature manifest.</summary>
    public const string SimpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json";

    public const string SignatureAnnotation = "dev.cosignproject.cosign/signature";
    public const string CertificateAnnotation = "dev.sigstore.cosign/certificate";
    public const string ChainAnnotation = "dev.sigstore.cosign/chain";
    public const string BundleAnnotation = "dev.sigstore.cosign/bundle";
    public const string TimestampAnnotation = "dev.sigstore.cosign/rfc3161timestamp";

    /// <summary>Artifact types of Sigstore bundles attached as OCI referrers.</summary>
    public static readonly string[] BundleArtifactTypes =
    [
        "application/vnd.dev.sigstore.bundle.v0.3+json",
        "application/vnd.dev.sigstore.bundle+json;version=0.3",
        "application/vnd.dev.sigstore.bundle+json;version=0.2",
    ];

    /// <summary>The legacy signature tag: sha256:abc... is signed under sha256-abc....sig.</summary>
    public static string SignatureTag(string digest) => digest.Replace(':', '-') + ".sig";

    /// <summary>The legacy attestation tag: sha256-abc....att.</summary>
    public static string AttestationTag(string digest) => digest.Replace(':', '-') + ".att";
}
