using System.Runtime.CompilerServices;
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Skjold.SupplyChain.Crypto;

namespace Skjold.SupplyChain.Sigstore;

/// <summary>
/// Chains a certificate to one trusted authority of the trusted root at a given time. The authority's own chain
/// is trust material: its links are checked once (by .NET's chain engine, ignoring time) and cached. A leaf is
/// then checked directly against the authority's issuing certificate: issuer name, signature, validity at the
/// time of every certificate up to the root, not a CA itself, and no critical extension Skjold does not know.
/// This is the path Sigstore's trust model allows (intermediates come from the trusted root only) and is
/// several times cheaper than building a chain per bundle; a leaf signed with an algorithm this path does not
/// read (RSA-PSS) falls back to the chain engine.
/// </summary>
internal static class CertificateChains
{
    private static readonly HashSet<string> KnownCritical = new(StringComparer.Ordinal)
    {
        "2.5.29.15", "2.5.29.37", "2.5.29.17", "2.5.29.19", "2.5.29.14", "2.5.29.35",
    };

    private static readonly ConditionalWeakTable<TrustedAuthority, StrongBox<bool>> ChainValid = new();

    /// <summary>The chain (leaf first, then the authority's certificates from its issuer up), or null with the reason.</summary>
    public static IReadOnlyList<X509Certificate2>? Build(X509Certificate2 leaf, TrustedAuthority authority, DateTimeOffset time, out string? problem)
    {
        problem = null;
        if (!authority.ValidFor.Contains(time))
        {
            problem = $"{time:O} is outside the validity of authority {authority.Uri}";
            return null;
        }

        if (!AuthorityChainValid(authority))
        {
            problem = $"the trusted root's chain for {authority.Uri} does not verify";
            return null;
        }

        var chain = authority.Chain;
        var start = -1;
        for (var i = 0; i < chain.Count; i++)
        {
            if (chain[i].RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span))
            {
                start = i; // the certificate is itself part of the trust material (a TSA's signing certificate)
                break;
            }
        }

        var result = new List<X509Certificate2>();
        if (start < 0)
        {
            var issuer = chain[0];
            if (!leaf.IssuerName.RawData.AsSpan().SequenceEqual(issuer.SubjectName.RawData))
            {
                problem = $"the certificate's issuer is not {authority.Uri}'s";
                return null;
            }

            switch (SignedBy(leaf, issuer))
            {
                case false:
                    problem = $"the certificate's signature does not verify with {authority.Uri}'s key";
                    return null;
                case null:
                    return Engine(leaf, authority, time, out problem);
            }

            foreach (var ext in leaf.Extensions)
            {
                if (ext.Critical && !KnownCritical.Contains(ext.Oid?.Value ?? ""))
                {
                    problem = $"the certificate has an unknown critical extension {ext.Oid?.Value}";
                    return null;
                }
            }

            result.Add(leaf);
            start = 0;
        }

        for (var i = start; i < chain.Count; i++)
        {
            result.Add(chain[i]);
        }

        foreach (var c in result)
        {
            if (time < c.NotBefore.ToUniversalTime() || time > c.NotAfter.ToUniversalTime())
            {
                problem = $"{c.Subject} is not valid at {time:O} ({c.NotBefore.ToUniversalTime():O} to {c.NotAfter.ToUniversalTime():O})";
                return null;
            }
        }

        return result;
    }

    /// <summary>True for a self-issued certificate (subject equals issuer): a root, which a bundle must not carry.</summary>
    public static bool IsSelfIssued(X509Certificate2 cert) =>
        cert.SubjectName.RawData.AsSpan().SequenceEqual(cert.IssuerName.RawData);

    /// <summary>Whether <paramref name="issuer"/>'s key signed <paramref name="cert"/>; null for a signature algorithm not read here.</summary>
    private static bool? SignedBy(X509Certificate2 cert, X509Certificate2 issuer)
    {
        try
        {
            var reader = new AsnReader(cert.RawData, AsnEncodingRules.DER).ReadSequence();
            var tbs = reader.ReadEncodedValue();
            var algorithm = reader.ReadSequence().ReadObjectIdentifier();
            var signature = reader.ReadBitString(out var unused);
            if (unused != 0)
            {
                return false;
            }

            HashAlgorithmName hash;
            switch (algorithm)
            {
                case "1.2.840.10045.4.3.2" or "1.2.840.113549.1.1.11":
                    hash = HashAlgorithmName.SHA256;
                    break;
                case "1.2.840.10045.4.3.3" or "1.2.840.113549.1.1.12":
                    hash = HashAlgorithmName.SHA384;
                    break;
                case "1.2.840.10045.4.3.4" or "1.2.840.113549.1.1.13":
                    hash = HashAlgorithmName.SHA512;
                    break;
                case "1.3.101.112":
                    return VerifyingKey.FromDer(issuer.PublicKey.ExportSubjectPublicKeyInfo()).Verify(tbs.Span, signature);
                default:
                    return null;
            }

            if (issuer.GetECDsaPublicKey() is { } ec)
            {
                using (ec)
                {
                    return algorithm.StartsWith("1.2.840.10045.4.3", StringComparison.Ordinal)
                        && ec.VerifyData(tbs.Span, signature, hash, DSASignatureFormat.Rfc3279DerSequence);
                }
            }

            if (issuer.GetRSAPublicKey() is { } rsa)
            {
                using (rsa)
                {
                    return algorithm.StartsWith("1.2.840.113549.1.1", StringComparison.Ordinal)
                        && rsa.VerifyData(tbs.Span, signature, hash, RSASignaturePadding.Pkcs1);
                }
            }

            return null;
        }
        catch (Exception e) when (e is AsnContentException or CryptographicException)
        {
            return false;
        }
    }

    private static bool AuthorityChainValid(TrustedAuthority authority) =>
        ChainValid.GetValue(authority, a =>
        {
            using var chain = new X509Chain();
            var policy = chain.ChainPolicy;
            policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            policy.RevocationMode = X509RevocationMode.NoCheck;
            policy.DisableCertificateDownloads = true;
            policy.VerificationFlags = X509VerificationFlags.IgnoreNotTimeValid | X509VerificationFlags.IgnoreCtlNotTimeValid;
            policy.CustomTrustStore.Add(a.Chain[^1]);
            for (var i = 1; i < a.Chain.Count - 1; i++)
            {
                policy.ExtraStore.Add(a.Chain[i]);
            }

            return new StrongBox<bool>(chain.Build(a.Chain[0]));
        }).Value;

    /// <summary>The chain engine, for leaves the direct check cannot read: only the authority's certificates are candidates.</summary>
    private static IReadOnlyList<X509Certificate2>? Engine(X509Certificate2 leaf, TrustedAuthority authority, DateTimeOffset time, out string? problem)
    {
        problem = null;
        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.DisableCertificateDownloads = true;
        policy.VerificationTime = time.UtcDateTime;
        policy.CustomTrustStore.Add(authority.Chain[^1]);
        for (var i = 0; i < authority.Chain.Count - 1; i++)
        {
            policy.ExtraStore.Add(authority.Chain[i]);
        }

        if (!chain.Build(leaf))
        {
            problem = $"the certificate does not chain to {authority.Uri} at {time:O} ({string.Join(", ", chain.ChainStatus.Select(s => s.Status))})";
            return null;
        }

        return [.. chain.ChainElements.Select(e => e.Certificate)];
    }
}
