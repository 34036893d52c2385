using System.Security.Cryptography.X509Certificates;

namespace Skjold.SupplyChain.Sigstore;

/// <summary>Chain building to one trusted authority at a given time, with only that authority's root trusted.</summary>
internal static class CertificateChains
{
    /// <summary>
    /// Builds <paramref name="leaf"/> up to <paramref name="authority"/>'s root as of <paramref name="time"/>,
    /// with the authority's intermediates (and <paramref name="extra"/>) as the only other candidates; no
    /// revocation fetches, no downloads. Returns the chain (leaf first) or null.
    /// </summary>
    public static IReadOnlyList<X509Certificate2>? Build(X509Certificate2 leaf, TrustedAuthority authority, DateTimeOffset time, out string? problem)
    {
        problem = null;
        if (!authority.ValidFor.Contains(time))
        {
            problem = $"{time:O} is outside the validity of authority {authority.Uri}";
            return null;
        }

        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.DisableCertificateDownloads = true;
        policy.VerificationTimeIgnored = false;
        policy.VerificationTime = time.UtcDateTime;
        var root = authority.Chain[^1];
        policy.CustomTrustStore.Add(root);
        for (var i = 0; i < authority.Chain.Count - 1; i++)
        {
            policy.ExtraStore.Add(authority.Chain[i]);
        }

        if (!chain.Build(leaf))
        {
            var statuses = new List<string>();
            foreach (var s in chain.ChainStatus)
            {
                statuses.Add(s.Status.ToString());
            }

            problem = $"the certificate does not chain to {authority.Uri} at {time:O} ({string.Join(", ", statuses)})";
            return null;
        }

        var result = new List<X509Certificate2>();
        foreach (var e in chain.ChainElements)
        {
            result.Add(e.Certificate);
        }

        if (!result[^1].RawDataMemory.Span.SequenceEqual(root.RawDataMemory.Span))
        {
            problem = $"the chain ends at {result[^1].Subject}, not at {authority.Uri}'s root";
            return null;
        }

        return result;
    }

    /// <summary>True for a self-issued certificate (subject equals issuer): a root, which a bundle must not carry.</summary>
    public static bool IsSelfIssued(X509Certificate2 cert) =>
        cert.SubjectName.RawData.AsSpan().SequenceEqual(cert.IssuerName.RawData);
}
