using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;

namespace Skjold.SupplyChain.Sigstore;

/// <summary>
/// RFC 3161 timestamps over a bundle's signature: the token's imprint must be the hash of the signature,
/// its CMS signature must verify, and its signer must chain to a timestamp authority of the trusted root
/// that was valid at the token's time. Returns the verified time.
/// </summary>
internal static class TimestampVerifier
{
    public static DateTimeOffset Verify(byte[] signedTimestamp, ReadOnlySpan<byte> signature, TrustedRoot root)
    {
        var token = Decode(signedTimestamp);
        var info = token.TokenInfo;
        var name = info.HashAlgorithmId.Value switch
        {
            "2.16.840.1.101.3.4.2.1" => HashAlgorithmName.SHA256,
            "2.16.840.1.101.3.4.2.2" => HashAlgorithmName.SHA384,
            "2.16.840.1.101.3.4.2.3" => HashAlgorithmName.SHA512,
            var other => throw new SigstoreException($"timestamp: unsupported imprint hash {other}"),
        };

        var expected = name == HashAlgorithmName.SHA256 ? SHA256.HashData(signature)
            : name == HashAlgorithmName.SHA384 ? SHA384.HashData(signature) : SHA512.HashData(signature);
        if (!info.GetMessageHash().Span.SequenceEqual(expected))
        {
            throw new SigstoreException("timestamp: the token is not over this bundle's signature");
        }

        var time = info.Timestamp;
        var candidates = new X509Certificate2Collection();
        foreach (var tsa in root.TimestampAuthorities)
        {
            foreach (var c in tsa.Chain)
            {
                candidates.Add(c);
            }
        }

        if (!token.VerifySignatureForHash(expected, info.HashAlgorithmId, out var signer, candidates) || signer is null)
        {
            throw new SigstoreException("timestamp: the token's signature does not verify with a trusted timestamp authority's key");
        }

        string? problem = "the trusted root names no timestamp authority";
        foreach (var tsa in root.TimestampAuthorities)
        {
            if (CertificateChains.Build(signer, tsa, time, out problem) is not null)
            {
                return time;
            }
        }

        throw new SigstoreException($"timestamp: the signer is not a trusted timestamp authority at {time:O}: {problem}");
    }

    /// <summary>A TimeStampResp (status + token), as Sigstore bundles carry it, or a bare token.</summary>
    private static Rfc3161TimestampToken Decode(byte[] bytes)
    {
        try
        {
            if (Rfc3161TimestampToken.TryDecode(bytes, out var bare, out var used) && used == bytes.Length)
            {
                return bare;
            }

            var resp = new AsnReader(bytes, AsnEncodingRules.DER).ReadSequence();
            var status = resp.ReadSequence().ReadInteger();
            if (status != 0 && status != 1)
            {
                throw new SigstoreException($"timestamp: the authority's response has status {status}, not granted");
            }

            var tokenBytes = resp.ReadEncodedValue().ToArray();
            if (Rfc3161TimestampToken.TryDecode(tokenBytes, out var token, out _))
            {
                return token;
            }
        }
        catch (Exception e) when (e is AsnContentException or CryptographicException)
        {
            throw new SigstoreException($"timestamp: malformed: {e.Message}", e);
        }

        throw new SigstoreException("timestamp: not a valid RFC 3161 token (its signed data, TSTInfo and signer certificate reference do not agree)");
    }
}
