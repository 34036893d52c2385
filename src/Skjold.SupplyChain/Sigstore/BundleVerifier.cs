using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Skjold.Audit.Merkle;
using Skjold.SupplyChain.Crypto;

namespace Skjold.SupplyChain.Sigstore;

/// <summary>
/// Verifies a Sigstore bundle offline against a trusted root, following Sigstore's client specification:
/// the signature over the artifact (or the DSSE envelope and its in-toto subject), every transparency log
/// entry (log known to the root, body consistent with the bundle, signed entry timestamp, RFC 6962
/// inclusion proof and signed checkpoint), RFC 3161 timestamps, then, at every verified signing time, the
/// Fulcio chain to a trusted CA with at least one valid SCT, and finally the policy's identity and issuer
/// (or key). Any failed check rejects the bundle; nothing is fetched from the network.
/// </summary>
public sealed class BundleVerifier(TrustedRoot root, TimeProvider? time = null)
{
    private const string CodeSigningEku = "1.3.6.1.5.5.7.3.3";
    private static readonly TimeSpan AllowedSkew = TimeSpan.FromMinutes(1);
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public VerificationResult Verify(ReadOnlySpan<byte> bundleJson, Artifact artifact, VerificationPolicy policy)
    {
        SigstoreBundle bundle;
        try
        {
            bundle = BundleParser.Parse(bundleJson);
        }
        catch (SigstoreException e)
        {
            return VerificationResult.Fail(e.Message);
        }

        return Verify(bundle, artifact, policy);
    }

    public VerificationResult Verify(SigstoreBundle bundle, Artifact artifact, VerificationPolicy policy)
    {
        try
        {
            return VerifyOrThrow(bundle, artifact, policy);
        }
        catch (SigstoreException e)
        {
            return VerificationResult.Fail(e.Message);
        }
        catch (Exception e) when (e is CryptographicException or FormatException or JsonException or InvalidOperationException or System.Formats.Asn1.AsnContentException or KeyNotFoundException or OverflowException)
        {
            return VerificationResult.Fail($"malformed bundle: {e.Message}");
        }
    }

    private VerificationResult VerifyOrThrow(SigstoreBundle bundle, Artifact artifact, VerificationPolicy policy)
    {
        // 1. The signing key: the leaf certificate's, or the policy's for a key-based bundle.
        VerifyingKey key;
        var leaf = bundle.Certificate;
        if (leaf is not null)
        {
            if (policy.Key is not null)
            {
                throw new SigstoreException("the bundle is signed with a certificate, but the policy expects a key");
            }

            if (policy.Identity is null || policy.Issuer is null)
            {
                throw new SigstoreException("a keyless bundle needs an expected identity and issuer");
            }

            foreach (var extra in bundle.ChainRest)
            {
                if (CertificateChains.IsSelfIssued(extra))
                {
                    throw new SigstoreException("the bundle's certificate chain contains a root certificate; roots come from the trusted root only");
                }
            }

            CheckLeafUsage(leaf);
            key = VerifyingKey.FromDer(leaf.PublicKey.ExportSubjectPublicKeyInfo());
        }
        else
        {
            key = policy.Key ?? throw new SigstoreException("the bundle is signed with a key, and no key was given to verify it");
        }

        // 2. The content: a signature over the artifact, or a DSSE envelope whose in-toto subject is the artifact.
        string? predicateType = null;
        if (bundle.MessageSignature is { } ms)
        {
            if (ms.Digest is not null)
            {
                if (!string.Equals(ms.DigestAlgorithm, "SHA2_256", StringComparison.Ordinal) || !ms.Digest.AsSpan().SequenceEqual(artifact.Sha256))
                {
                    throw new SigstoreException("the bundle's message digest is not the artifact's SHA-256");
                }
            }

            var ok = artifact.Bytes is not null ? key.Verify(artifact.Bytes, ms.Signature) : key.VerifyDigest(artifact.Sha256, ms.Signature);
            if (!ok)
            {
                throw new SigstoreException($"the signature does not verify over the artifact with the {key.Description} key");
            }
        }
        else
        {
            var env = bundle.Envelope!;
            if (!string.Equals(env.PayloadType, DsseEnvelope.InTotoPayloadType, StringComparison.Ordinal))
            {
                throw new SigstoreException($"unsupported DSSE payload type {env.PayloadType}");
            }

            if (!key.Verify(env.Pae(), env.Signatures[0]))
            {
                throw new SigstoreException($"the DSSE envelope's signature does not verify with the {key.Description} key");
            }

            predicateType = InTotoStatement.CheckSubject(env.Payload, artifact);
        }

        // 3. Transparency log entries, 4. timestamps: each yields verified signing times.
        if (bundle.TlogEntries.Count == 0)
        {
            throw new SigstoreException("the bundle has no transparency log entry");
        }

        var times = new List<DateTimeOffset>();
        foreach (var entry in bundle.TlogEntries)
        {
            if (VerifyEntry(bundle, entry, artifact, leaf, key) is { } integrated)
            {
                times.Add(integrated);
            }
        }

        foreach (var ts in bundle.Rfc3161Timestamps)
        {
            times.Add(TimestampVerifier.Verify(ts, bundle.Signature, root));
        }

        if (times.Count == 0)
        {
            throw new SigstoreException("no verified signing time: the log entry has no integrated time and the bundle no trusted timestamp");
        }

        // 5. The certificate at every verified time: chain to a trusted CA, SCT, identity.
        string? identity = null, issuer = null;
        if (leaf is not null)
        {
            X509Certificate2? issuerCert = null;
            foreach (var t in times)
            {
                if (t < leaf.NotBefore.ToUniversalTime() || t > leaf.NotAfter.ToUniversalTime())
                {
                    throw new SigstoreException($"the signing time {t:O} is outside the certificate's validity ({leaf.NotBefore.ToUniversalTime():O} to {leaf.NotAfter.ToUniversalTime():O})");
                }

                issuerCert = ChainAt(leaf, t);
            }

            if (SignedCertificateTimestamps.CountVerified(leaf, issuerCert!, root, out var sctProblem) == 0)
            {
                throw new SigstoreException($"no valid SCT: {sctProblem}");
            }

            var identities = FulcioCertificate.Identities(leaf);
            issuer = FulcioCertificate.Issuer(leaf);
            if (!policy.Issuer!.Matches(issuer))
            {
                throw new SigstoreException($"the certificate's issuer {issuer ?? "(none)"} is not {policy.Issuer}");
            }

            foreach (var id in identities)
            {
                if (policy.Identity!.Matches(id))
                {
                    identity = id;
                    break;
                }
            }

            if (identity is null)
            {
                throw new SigstoreException($"the certificate's identity {string.Join(", ", identities)} is not {policy.Identity}");
            }
        }

        times.Sort();
        return new VerificationResult(true, null, identity, issuer, times, predicateType) { Statement = bundle.Envelope?.Payload };
    }

    private static void CheckLeafUsage(X509Certificate2 leaf)
    {
        var codeSigning = false;
        foreach (var ext in leaf.Extensions)
        {
            switch (ext)
            {
                case X509BasicConstraintsExtension bc when bc.CertificateAuthority:
                    throw new SigstoreException("the signing certificate is a CA certificate");
                case X509EnhancedKeyUsageExtension eku:
                    foreach (var oid in eku.EnhancedKeyUsages)
                    {
                        codeSigning |= oid.Value == CodeSigningEku;
                    }

                    break;
                case X509KeyUsageExtension ku when (ku.KeyUsages & X509KeyUsageFlags.DigitalSignature) == 0:
                    throw new SigstoreException("the signing certificate's key usage does not allow digital signatures");
            }
        }

        if (!codeSigning)
        {
            throw new SigstoreException("the signing certificate is not for code signing");
        }
    }

    private X509Certificate2 ChainAt(X509Certificate2 leaf, DateTimeOffset t)
    {
        string? problem = "the trusted root names no certificate authority";
        foreach (var ca in root.CertificateAuthorities)
        {
            if (CertificateChains.Build(leaf, ca, t, out problem) is { Count: >= 2 } chain)
            {
                return chain[1];
            }
        }

        throw new SigstoreException($"the signing certificate does not chain to a trusted CA at {t:O}: {problem}");
    }

    /// <summary>Checks one log entry; returns its integrated time when a signed entry timestamp vouches for it.</summary>
    private DateTimeOffset? VerifyEntry(SigstoreBundle bundle, TransparencyLogEntry entry, Artifact artifact, X509Certificate2? leaf, VerifyingKey key)
    {
        var log = root.TransparencyLog(entry.LogId)
            ?? throw new SigstoreException($"the log entry is from a transparency log the trusted root does not name ({Convert.ToBase64String(entry.LogId)})");

        EntryBody.Check(entry, bundle, artifact, leaf, key);

        DateTimeOffset? integrated = null;
        if (entry.SignedEntryTimestamp is { } set)
        {
            if (entry.IntegratedTime is not { } it)
            {
                throw new SigstoreException("a signed entry timestamp without an integrated time");
            }

            var payload = string.Create(CultureInfo.InvariantCulture,
                $"{{\"body\":\"{Convert.ToBase64String(entry.CanonicalizedBody)}\",\"integratedTime\":{it},\"logID\":\"{Convert.ToHexStringLower(entry.LogId)}\",\"logIndex\":{entry.LogIndex}}}");
            if (!log.Key.Verify(Encoding.UTF8.GetBytes(payload), set))
            {
                throw new SigstoreException($"the signed entry timestamp does not verify with {log.BaseUrl}'s key");
            }

            var when = DateTimeOffset.FromUnixTimeSeconds(it);
            if (when > _time.GetUtcNow() + AllowedSkew)
            {
                throw new SigstoreException($"the log entry's integrated time {when:O} is in the future");
            }

            if (!log.ValidFor.Contains(when))
            {
                throw new SigstoreException($"the integrated time {when:O} is outside the validity of {log.BaseUrl}'s key");
            }

            integrated = when;
        }
        else if (bundle.MinorVersion == 1)
        {
            throw new SigstoreException("a v0.1 bundle's log entry needs a signed entry timestamp");
        }

        if (entry.Proof is { } proof)
        {
            var leafHash = MerkleHash.Leaf(entry.CanonicalizedBody);
            if (!MerkleTree.VerifyInclusion(proof.LogIndex, proof.TreeSize, leafHash, proof.Hashes, proof.RootHash))
            {
                throw new SigstoreException($"the inclusion proof does not verify (leaf {proof.LogIndex} of {proof.TreeSize})");
            }

            if (proof.Checkpoint is null)
            {
                throw new SigstoreException("the inclusion proof has no checkpoint");
            }

            var cp = Checkpoint.Parse(proof.Checkpoint);
            if (cp.Size != proof.TreeSize || !cp.RootHash.AsSpan().SequenceEqual(proof.RootHash))
            {
                throw new SigstoreException("the checkpoint is for a different tree than the inclusion proof");
            }

            if (!cp.IsSignedBy(log))
            {
                throw new SigstoreException($"the checkpoint carries no valid signature of {log.Host}");
            }
        }
        else if (bundle.MinorVersion >= 2 || entry.IntegratedTime is null)
        {
            throw new SigstoreException("the log entry has no inclusion proof");
        }

        return integrated;
    }
}
