using System.Formats.Asn1;
using System.Security.Cryptography;

namespace Skjold.SupplyChain.Crypto;

/// <summary>
/// A public key that checks signatures: ECDSA (P-256, P-384, P-521; DER signatures), RSA (PKCS#1 v1.5 or
/// PSS) or Ed25519. The hash follows the key, as Sigstore's key details do: SHA-256 for P-256 and RSA,
/// SHA-384 for P-384, SHA-512 for P-521.
/// </summary>
public abstract class VerifyingKey
{
    private const string Ed25519Oid = "1.3.101.112";

    /// <summary>SHA-256 of the SubjectPublicKeyInfo DER: the key id of CT and Rekor logs.</summary>
    public byte[] KeyId { get; }

    /// <summary>The SubjectPublicKeyInfo DER.</summary>
    public byte[] SubjectPublicKeyInfo { get; }

    private protected VerifyingKey(byte[] spki)
    {
        SubjectPublicKeyInfo = spki;
        KeyId = SHA256.HashData(spki);
    }

    /// <summary>Checks <paramref name="signature"/> over <paramref name="data"/>; false for a malformed signature.</summary>
    public abstract bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature);

    /// <summary>Checks a signature over an already computed digest (for hashedrekord entries that carry only the digest).</summary>
    public abstract bool VerifyDigest(ReadOnlySpan<byte> digest, ReadOnlySpan<byte> signature);

    /// <summary>A short description for messages: "ECDSA P-256".</summary>
    public abstract string Description { get; }

    /// <summary>Reads a DER SubjectPublicKeyInfo (or, with <paramref name="pkcs1Rsa"/>, a PKCS#1 RSAPublicKey).</summary>
    public static VerifyingKey FromDer(byte[] der, bool pkcs1Rsa = false)
    {
        if (pkcs1Rsa)
        {
            var rsa = RSA.Create();
            rsa.ImportRSAPublicKey(der, out var read);
            if (read != der.Length)
            {
                throw new CryptographicException("trailing bytes after the RSA public key");
            }

            return new RsaKey(rsa, rsa.ExportSubjectPublicKeyInfo());
        }

        var algorithm = AlgorithmOid(der);
        switch (algorithm)
        {
            case "1.2.840.10045.2.1":
                var ec = ECDsa.Create();
                ImportExact(ec, der);
                return new EcdsaKey(ec, der);
            case "1.2.840.113549.1.1.1":
                var r = RSA.Create();
                ImportExact(r, der);
                return new RsaKey(r, der);
            case Ed25519Oid:
                return new Ed25519Key(Ed25519Bytes(der), der);
            default:
                throw new CryptographicException($"unsupported public key algorithm {algorithm}");
        }
    }

    /// <summary>Reads a PEM "PUBLIC KEY" (SubjectPublicKeyInfo), as cosign writes them.</summary>
    public static VerifyingKey FromPem(string pem)
    {
        if (!PemEncoding.TryFind(pem, out var fields))
        {
            throw new CryptographicException("not a PEM public key (no valid BEGIN/END block with base64 inside)");
        }

        var label = pem[fields.Label];
        if (!label.Equals("PUBLIC KEY", StringComparison.Ordinal))
        {
            throw new CryptographicException($"expected a PEM PUBLIC KEY, found {label}");
        }

        return FromDer(Convert.FromBase64String(pem[fields.Base64Data]));
    }

    private static void ImportExact(AsymmetricAlgorithm key, byte[] der)
    {
        key.ImportSubjectPublicKeyInfo(der, out var read);
        if (read != der.Length)
        {
            throw new CryptographicException("trailing bytes after the public key");
        }
    }

    private static string AlgorithmOid(byte[] spki)
    {
        var reader = new AsnReader(spki, AsnEncodingRules.DER).ReadSequence();
        return reader.ReadSequence().ReadObjectIdentifier();
    }

    private static byte[] Ed25519Bytes(byte[] spki)
    {
        var reader = new AsnReader(spki, AsnEncodingRules.DER);
        var seq = reader.ReadSequence();
        reader.ThrowIfNotEmpty();
        var alg = seq.ReadSequence();
        alg.ReadObjectIdentifier();
        alg.ThrowIfNotEmpty();
        var key = seq.ReadBitString(out var unused);
        seq.ThrowIfNotEmpty();
        if (unused != 0 || key.Length != 32)
        {
            throw new CryptographicException("an Ed25519 public key is 32 bytes");
        }

        return key;
    }

    private sealed class EcdsaKey(ECDsa key, byte[] spki) : VerifyingKey(spki)
    {
        private readonly HashAlgorithmName _hash = key.KeySize switch
        {
            <= 256 => HashAlgorithmName.SHA256,
            <= 384 => HashAlgorithmName.SHA384,
            _ => HashAlgorithmName.SHA512,
        };

        public override string Description => $"ECDSA P-{key.KeySize}";

        public override bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
        {
            try
            {
                return key.VerifyData(data, signature, _hash, DSASignatureFormat.Rfc3279DerSequence);
            }
            catch (CryptographicException)
            {
                return false;
            }
        }

        public override bool VerifyDigest(ReadOnlySpan<byte> digest, ReadOnlySpan<byte> signature)
        {
            try
            {
                return key.VerifyHash(digest, signature, DSASignatureFormat.Rfc3279DerSequence);
            }
            catch (CryptographicException)
            {
                return false;
            }
        }
    }

    private sealed class RsaKey(RSA key, byte[] spki) : VerifyingKey(spki)
    {
        public override string Description => $"RSA {key.KeySize}";

        public override bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
        {
            var d = data.ToArray();
            var s = signature.ToArray();
            return Run(() => key.VerifyData(d, s, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
                || key.VerifyData(d, s, HashAlgorithmName.SHA256, RSASignaturePadding.Pss));
        }

        public override bool VerifyDigest(ReadOnlySpan<byte> digest, ReadOnlySpan<byte> signature)
        {
            var d = digest.ToArray();
            var s = signature.ToArray();
            return Run(() => key.VerifyHash(d, s, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
                || key.VerifyHash(d, s, HashAlgorithmName.SHA256, RSASignaturePadding.Pss));
        }
    }

    private sealed class Ed25519Key(byte[] key, byte[] spki) : VerifyingKey(spki)
    {
        public override string Description => "Ed25519";

        public override bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
            signature.Length == 64
            && Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.Verify(signature.ToArray(), 0, key, 0, data.ToArray(), 0, data.Length);

        // Ed25519 signs the message itself (no pre-hash variant is used by Sigstore's logs).
        public override bool VerifyDigest(ReadOnlySpan<byte> digest, ReadOnlySpan<byte> signature) => false;
    }

    private static bool Run(Func<bool> check)
    {
        try
        {
            return check();
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
