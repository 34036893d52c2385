using System.Buffers.Binary;
using System.Formats.Asn1;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Skjold.SupplyChain.Sigstore;

namespace Skjold.TestSupport;

/// <summary>
/// A throwaway Sigstore instance for tests, written independently of the verifier: a Fulcio-like CA (root and
/// intermediate) issuing short-lived code-signing certificates with an embedded SCT from a CT log key, and a
/// Rekor-like log (ECDSA P-256) that records hashedrekord entries in an RFC 6962 tree and returns signed entry
/// timestamps, inclusion proofs and signed checkpoints. Its trusted_root.json trusts exactly these keys.
/// </summary>
public sealed class TestSigstore : IDisposable
{
    public const string RekorUrl = "https://rekor.test.skjold";
    public const string FulcioUrl = "https://fulcio.test.skjold";
    public const string CtUrl = "https://ct.test.skjold";
    public const string DefaultIdentity = "https://github.com/skjold/app/.github/workflows/release.yml@refs/heads/main";
    public const string DefaultIssuer = "https://token.actions.githubusercontent.com";

    private readonly ECDsa _rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _ctKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _rekorKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509Certificate2 _root;
    private readonly X509Certificate2 _intermediate;
    private readonly List<byte[]> _leaves = [];
    private readonly Lock _lock = new();

    public TestSigstore()
    {
        var start = DateTimeOffset.UtcNow.AddDays(-30);
        var rootReq = new CertificateRequest("O=skjold.test, CN=test-fulcio-root", _rootKey, HashAlgorithmName.SHA256);
        rootReq.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 1, true));
        rootReq.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        rootReq.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(rootReq.PublicKey, false));
        _root = rootReq.CreateSelfSigned(start, start.AddYears(5));
        var intReq = new CertificateRequest("O=skjold.test, CN=test-fulcio-intermediate", _intermediateKey, HashAlgorithmName.SHA256);
        intReq.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        intReq.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        intReq.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.3")], false));
        intReq.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(intReq.PublicKey, false));
        intReq.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_root, true, false));
        using var intCert = intReq.Create(_root, start, start.AddYears(4), RandomNumberGenerator.GetBytes(12));
        _intermediate = X509CertificateLoader.LoadCertificate(intCert.RawData);
        RekorLogId = SHA256.HashData(_rekorKey.ExportSubjectPublicKeyInfo());
        CtLogId = SHA256.HashData(_ctKey.ExportSubjectPublicKeyInfo());
        TrustedRootJson = BuildTrustedRoot(start);
    }

    public byte[] RekorLogId { get; }

    public byte[] CtLogId { get; }

    public string TrustedRootJson { get; }

    public TrustedRoot TrustedRoot => TrustedRoot.Parse(Encoding.UTF8.GetBytes(TrustedRootJson));

    /// <summary>A fresh ECDSA P-256 key pair, as cosign generate-key-pair makes.</summary>
    public static ECDsa NewKey() => ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public static string PublicKeyPem(ECDsa key) => key.ExportSubjectPublicKeyInfoPem() + "\n";

    /// <summary>A Fulcio-style leaf for <paramref name="identity"/> (a URI or e-mail SAN) from <paramref name="issuer"/>, valid 10 minutes from <paramref name="notBefore"/>, with one SCT.</summary>
    public (X509Certificate2 Certificate, ECDsa Key) IssueCertificate(string identity = DefaultIdentity, string issuer = DefaultIssuer, DateTimeOffset? notBefore = null)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var nb = notBefore ?? DateTimeOffset.UtcNow.AddMinutes(-1);
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        CertificateRequest Request()
        {
            var req = new CertificateRequest(new X500DistinguishedName(""), key, HashAlgorithmName.SHA256);
            req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
            req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.3")], false));
            req.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_intermediate, true, false));
            var san = new SubjectAlternativeNameBuilder();
            if (identity.Contains('@', StringComparison.Ordinal) && !identity.Contains("://", StringComparison.Ordinal))
            {
                san.AddEmailAddress(identity);
            }
            else
            {
                san.AddUri(new Uri(identity));
            }

            req.CertificateExtensions.Add(new X509Extension(san.Build(critical: true).Oid!, san.Build(true).RawData, true));
            req.CertificateExtensions.Add(new X509Extension("1.3.6.1.4.1.57264.1.1", Encoding.UTF8.GetBytes(issuer), false));
            var utf8 = new AsnWriter(AsnEncodingRules.DER);
            utf8.WriteCharacterString(UniversalTagNumber.UTF8String, issuer);
            req.CertificateExtensions.Add(new X509Extension("1.3.6.1.4.1.57264.1.8", utf8.Encode(), false));
            return req;
        }

        using var intermediateWithKey = _intermediate.CopyWithPrivateKey(_intermediateKey);
        var pre = Request();
        using var precert = pre.Create(intermediateWithKey, nb, nb.AddMinutes(10), serial);
        var tbs = Tbs(precert.RawData);
        var sct = Sct(tbs, SHA256.HashData(_intermediate.PublicKey.ExportSubjectPublicKeyInfo()), nb.AddSeconds(1));
        var list = new byte[2 + 2 + sct.Length];
        BinaryPrimitives.WriteUInt16BigEndian(list, (ushort)(sct.Length + 2));
        BinaryPrimitives.WriteUInt16BigEndian(list.AsSpan(2), (ushort)sct.Length);
        sct.CopyTo(list, 4);
        var octet = new AsnWriter(AsnEncodingRules.DER);
        octet.WriteOctetString(list);
        var final = Request();
        final.CertificateExtensions.Add(new X509Extension("1.3.6.1.4.1.11129.2.4.2", octet.Encode(), false));
        using var cert = final.Create(intermediateWithKey, nb, nb.AddMinutes(10), serial);
        return (X509CertificateLoader.LoadCertificate(cert.RawData), key);
    }

    /// <summary>What the log returns for an entry.</summary>
    public sealed record LogEntry(long Index, long IntegratedTime, byte[] Body, byte[] SignedEntryTimestamp, long TreeSize, byte[] Root, IReadOnlyList<byte[]> Proof, string Checkpoint);

    /// <summary>Records a hashedrekord 0.0.1 entry (SHA-256 of the artifact, signature, PEM certificate or public key).</summary>
    public LogEntry LogHashedRekord(byte[] artifactSha256, byte[] signature, string verifierPem, DateTimeOffset? integrated = null)
    {
        var body = Encoding.UTF8.GetBytes(
            $"{{\"apiVersion\":\"0.0.1\",\"kind\":\"hashedrekord\",\"spec\":{{\"data\":{{\"hash\":{{\"algorithm\":\"sha256\",\"value\":\"{Convert.ToHexStringLower(artifactSha256)}\"}}}},\"signature\":{{\"content\":\"{Convert.ToBase64String(signature)}\",\"publicKey\":{{\"content\":\"{Convert.ToBase64String(Encoding.ASCII.GetBytes(verifierPem))}\"}}}}}}}}");
        return Append(body, integrated ?? DateTimeOffset.UtcNow);
    }

    /// <summary>Appends a body to the log and returns its SET, inclusion proof and checkpoint.</summary>
    public LogEntry Append(byte[] body, DateTimeOffset integrated)
    {
        lock (_lock)
        {
            var index = _leaves.Count;
            _leaves.Add(Leaf(body));
            var size = _leaves.Count;
            var time = integrated.ToUnixTimeSeconds();
            var payload = string.Create(CultureInfo.InvariantCulture,
                $"{{\"body\":\"{Convert.ToBase64String(body)}\",\"integratedTime\":{time},\"logID\":\"{Convert.ToHexStringLower(RekorLogId)}\",\"logIndex\":{index}}}");
            var set = _rekorKey.SignData(Encoding.UTF8.GetBytes(payload), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
            var root = Mth(0, size);
            var proof = new List<byte[]>();
            Path(index, 0, size, proof);
            var note = string.Create(CultureInfo.InvariantCulture, $"rekor.test.skjold - 42\n{size}\n{Convert.ToBase64String(root)}\n");
            var sig = _rekorKey.SignData(Encoding.UTF8.GetBytes(note), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
            var checkpoint = note + "\n\u2014 rekor.test.skjold " + Convert.ToBase64String([.. RekorLogId.AsSpan(0, 4), .. sig]) + "\n";
            return new LogEntry(index, time, body, set, size, root, proof, checkpoint);
        }
    }

    /// <summary>A v0.3 bundle for a message signature over <paramref name="artifactSha256"/> by <paramref name="certificate"/> (or a key when null).</summary>
    public string Bundle(byte[] artifactSha256, byte[] signature, X509Certificate2? certificate, LogEntry entry)
    {
        var hashes = new JsonArray();
        foreach (var h in entry.Proof)
        {
            hashes.Add(Convert.ToBase64String(h));
        }

        var material = new JsonObject();
        if (certificate is null)
        {
            material["publicKey"] = new JsonObject { ["hint"] = "" };
        }
        else
        {
            material["certificate"] = new JsonObject { ["rawBytes"] = Convert.ToBase64String(certificate.RawData) };
        }

        var index = entry.Index.ToString(CultureInfo.InvariantCulture);
        material["tlogEntries"] = new JsonArray(new JsonObject
        {
            ["logIndex"] = index,
            ["logId"] = new JsonObject { ["keyId"] = Convert.ToBase64String(RekorLogId) },
            ["kindVersion"] = new JsonObject { ["kind"] = "hashedrekord", ["version"] = "0.0.1" },
            ["integratedTime"] = entry.IntegratedTime.ToString(CultureInfo.InvariantCulture),
            ["inclusionPromise"] = new JsonObject { ["signedEntryTimestamp"] = Convert.ToBase64String(entry.SignedEntryTimestamp) },
            ["inclusionProof"] = new JsonObject
            {
                ["logIndex"] = index,
                ["rootHash"] = Convert.ToBase64String(entry.Root),
                ["treeSize"] = entry.TreeSize.ToString(CultureInfo.InvariantCulture),
                ["hashes"] = hashes,
                ["checkpoint"] = new JsonObject { ["envelope"] = entry.Checkpoint },
            },
            ["canonicalizedBody"] = Convert.ToBase64String(entry.Body),
        });
        var bundle = new JsonObject
        {
            ["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.3+json",
            ["verificationMaterial"] = material,
            ["messageSignature"] = new JsonObject
            {
                ["messageDigest"] = new JsonObject { ["algorithm"] = "SHA2_256", ["digest"] = Convert.ToBase64String(artifactSha256) },
                ["signature"] = Convert.ToBase64String(signature),
            },
        };
        return bundle.ToJsonString();
    }

    /// <summary>cosign's legacy Rekor bundle annotation for an entry.</summary>
    public string RekorBundleAnnotation(LogEntry entry) => string.Create(CultureInfo.InvariantCulture,
        $"{{\"SignedEntryTimestamp\":\"{Convert.ToBase64String(entry.SignedEntryTimestamp)}\",\"Payload\":{{\"body\":\"{Convert.ToBase64String(entry.Body)}\",\"integratedTime\":{entry.IntegratedTime},\"logIndex\":{entry.Index},\"logID\":\"{Convert.ToHexStringLower(RekorLogId)}\"}}}}");

    /// <summary>Signs a digest with a key, ECDSA P-256 with SHA-256, DER (as cosign does).</summary>
    public static byte[] SignDigest(ECDsa key, byte[] sha256) => key.SignHash(sha256, DSASignatureFormat.Rfc3279DerSequence);

    public static byte[] Sign(ECDsa key, byte[] data) => key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

    private byte[] Sct(byte[] tbs, byte[] issuerKeyHash, DateTimeOffset when)
    {
        var ts = (ulong)when.ToUnixTimeMilliseconds();
        var signed = new List<byte> { 0, 0 };
        var t = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(t, ts);
        signed.AddRange(t);
        signed.AddRange([0, 1]);
        signed.AddRange(issuerKeyHash);
        signed.AddRange([(byte)(tbs.Length >> 16), (byte)(tbs.Length >> 8), (byte)tbs.Length]);
        signed.AddRange(tbs);
        signed.AddRange([0, 0]);
        var sig = _ctKey.SignData([.. signed], HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var sct = new List<byte> { 0 };
        sct.AddRange(CtLogId);
        sct.AddRange(t);
        sct.AddRange([0, 0]);
        sct.AddRange([4, 3, (byte)(sig.Length >> 8), (byte)sig.Length]);
        sct.AddRange(sig);
        return [.. sct];
    }

    private static byte[] Tbs(byte[] certificate)
    {
        var cert = new AsnReader(certificate, AsnEncodingRules.DER).ReadSequence();
        return cert.ReadEncodedValue().ToArray();
    }

    private static byte[] Leaf(byte[] data) => SHA256.HashData([0, .. data]);

    private static byte[] NodeHash(byte[] l, byte[] r) => SHA256.HashData([1, .. l, .. r]);

    private static long Split(long n)
    {
        long k = 1;
        while (k << 1 < n)
        {
            k <<= 1;
        }

        return k;
    }

    private byte[] Mth(long start, long end)
    {
        if (end - start == 1)
        {
            return _leaves[(int)start];
        }

        var k = Split(end - start);
        return NodeHash(Mth(start, start + k), Mth(start + k, end));
    }

    private void Path(long m, long start, long end, List<byte[]> into)
    {
        if (end - start <= 1)
        {
            return;
        }

        var k = Split(end - start);
        if (m < k)
        {
            Path(m, start, start + k, into);
            into.Add(Mth(start + k, end));
        }
        else
        {
            Path(m - k, start + k, end, into);
            into.Add(Mth(start, start + k));
        }
    }

    private string BuildTrustedRoot(DateTimeOffset start)
    {
        var from = start.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        JsonObject Log(string url, ECDsa key, byte[] id) => new()
        {
            ["baseUrl"] = url,
            ["hashAlgorithm"] = "SHA2_256",
            ["publicKey"] = new JsonObject
            {
                ["rawBytes"] = Convert.ToBase64String(key.ExportSubjectPublicKeyInfo()),
                ["keyDetails"] = "PKIX_ECDSA_P256_SHA_256",
                ["validFor"] = new JsonObject { ["start"] = from },
            },
            ["logId"] = new JsonObject { ["keyId"] = Convert.ToBase64String(id) },
        };
        var root = new JsonObject
        {
            ["mediaType"] = "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            ["tlogs"] = new JsonArray(Log(RekorUrl, _rekorKey, RekorLogId)),
            ["certificateAuthorities"] = new JsonArray(new JsonObject
            {
                ["subject"] = new JsonObject { ["organization"] = "skjold.test", ["commonName"] = "test-fulcio" },
                ["uri"] = FulcioUrl,
                ["certChain"] = new JsonObject
                {
                    ["certificates"] = new JsonArray(
                        new JsonObject { ["rawBytes"] = Convert.ToBase64String(_intermediate.RawData) },
                        new JsonObject { ["rawBytes"] = Convert.ToBase64String(_root.RawData) }),
                },
                ["validFor"] = new JsonObject { ["start"] = from },
            }),
            ["ctlogs"] = new JsonArray(Log(CtUrl, _ctKey, CtLogId)),
            ["timestampAuthorities"] = new JsonArray(),
        };
        return root.ToJsonString();
    }

    public void Dispose()
    {
        _rootKey.Dispose();
        _intermediateKey.Dispose();
        _ctKey.Dispose();
        _rekorKey.Dispose();
        _root.Dispose();
        _intermediate.Dispose();
    }
}
