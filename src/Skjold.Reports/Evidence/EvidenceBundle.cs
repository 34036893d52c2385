using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Skjold.Engine.Compliance;
using Skjold.Reports.Compliance;

namespace Skjold.Reports.Evidence;

/// <summary>
/// A signed evidence bundle: the JSON report (base64, so its bytes are exactly what was signed),
/// its SHA-256 and an ECDSA P-256 signature over it.
/// </summary>
public static class EvidenceBundle
{
    public const string Kind = "SkjoldEvidenceBundle";

    /// <summary>A key's id: the first 16 hex digits of the SHA-256 of its SubjectPublicKeyInfo (the audit trail's key ids are made the same way).</summary>
    public static string KeyIdOf(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))[..16];
    }

    /// <summary>The bundle of <paramref name="report"/>, signed with <paramref name="key"/> (JSON text).</summary>
    public static string Create(ComplianceReport report, ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(key);
        var payload = Encoding.UTF8.GetBytes(ComplianceJsonWriter.Text(report));
        var signature = key.SignData(payload, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var bundle = new EvidenceBundleFile(Kind, 1, report.Framework.Id, report.Score, report.GeneratedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            "ECDSA-P256-SHA256", KeyIdOf(key), Convert.ToHexStringLower(SHA256.HashData(payload)), Convert.ToBase64String(payload), Convert.ToBase64String(signature));
        return JsonSerializer.Serialize(bundle, EvidenceJsonContext.Default.EvidenceBundleFile) + "\n";
    }

    /// <summary>The bundle of <paramref name="report"/>, signed with the PEM private key <paramref name="privateKeyPem"/>; also the key's id.</summary>
    /// <exception cref="ArgumentException">the PEM holds no key this can use</exception>
    /// <exception cref="CryptographicException">the key is not an ECDSA key</exception>
    public static (string Bundle, string KeyId) Create(ComplianceReport report, string privateKeyPem)
    {
        using var key = ECDsa.Create();
        key.ImportFromPem(privateKeyPem);
        return (Create(report, key), KeyIdOf(key));
    }

    /// <summary>Verifies a bundle against the signer's public key (PEM).</summary>
    public static EvidenceVerification Verify(string bundleText, string publicKeyPem)
    {
        EvidenceBundleFile? bundle;
        try
        {
            bundle = JsonSerializer.Deserialize(bundleText, EvidenceJsonContext.Default.EvidenceBundleFile);
        }
        catch (JsonException ex)
        {
            return EvidenceVerification.Malformed($"not an evidence bundle: {ex.Message}");
        }

        if (bundle is null || bundle.Kind != Kind || bundle.Report is null || bundle.Signature is null)
        {
            return EvidenceVerification.Malformed($"not an evidence bundle (kind {Kind} with report and signature)");
        }

        using var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(publicKeyPem);
        }
        catch (ArgumentException ex)
        {
            return EvidenceVerification.Malformed($"the public key is not a PEM public key: {ex.Message}");
        }

        byte[] payload;
        byte[] signature;
        try
        {
            payload = Convert.FromBase64String(bundle.Report);
            signature = Convert.FromBase64String(bundle.Signature);
        }
        catch (FormatException)
        {
            return EvidenceVerification.Invalid("the report or signature is not valid base64: the bundle was altered");
        }

        if (KeyIdOf(key) != bundle.KeyId)
        {
            return EvidenceVerification.Invalid($"signed with key {bundle.KeyId}, but the public key given is {KeyIdOf(key)}");
        }

        if (Convert.ToHexStringLower(SHA256.HashData(payload)) != bundle.ReportSha256)
        {
            return EvidenceVerification.Invalid("the report's SHA-256 does not match the digest in the bundle: the report was altered");
        }

        if (!key.VerifyData(payload, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence))
        {
            return EvidenceVerification.Invalid("the signature does not match the report: altered, or signed with another key");
        }

        using var doc = JsonDocument.Parse(payload);
        var root = doc.RootElement;
        var fw = root.GetProperty("framework");
        var summaryFields = fw.GetProperty("id").GetString() != bundle.Framework || Math.Abs(root.GetProperty("score").GetDouble() - bundle.Score) > 0.001
            ? " (note: the bundle's unsigned summary fields differ from the signed report; trust the report)"
            : string.Empty;
        return EvidenceVerification.Valid($"{fw.GetProperty("name").GetString()} {fw.GetProperty("version").GetString()} report of {root.GetProperty("generatedAt").GetString()}, " +
            $"score {root.GetProperty("score").GetDouble().ToString("0.0", CultureInfo.InvariantCulture)}, input {root.GetProperty("inputDigest").GetString()}, " +
            $"Skjold {root.GetProperty("toolVersion").GetString()}, signed with key {bundle.KeyId}{summaryFields}", payload);
    }
}
