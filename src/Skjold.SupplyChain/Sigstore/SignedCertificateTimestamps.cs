using System.Buffers.Binary;
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Skjold.SupplyChain.Sigstore;

/// <summary>
/// Embedded SCTs (RFC 6962 3.3): the leaf carries a SignedCertificateTimestampList in extension
/// 1.3.6.1.4.1.11129.2.4.2; each SCT is the log's signature over the precertificate (the leaf's
/// TBSCertificate without that extension) and the SHA-256 of the issuer's public key.
/// </summary>
public static class SignedCertificateTimestamps
{
    private const string SctListOid = "1.3.6.1.4.1.11129.2.4.2";

    /// <summary>How many of the leaf's SCTs verify against a CT log of the trusted root.</summary>
    public static int CountVerified(X509Certificate2 leaf, X509Certificate2 issuer, TrustedRoot root, out string? problem)
    {
        problem = null;
        var list = Extension(leaf);
        if (list is null)
        {
            problem = "the certificate carries no SCTs";
            return 0;
        }

        var issuerKeyHash = SHA256.HashData(issuer.PublicKey.ExportSubjectPublicKeyInfo());
        var tbs = PrecertificateTbs(leaf.RawData);
        var verified = 0;
        foreach (var sct in Split(list))
        {
            if (Verify(sct, tbs, issuerKeyHash, root, out var why))
            {
                verified++;
            }
            else
            {
                problem = why;
            }
        }

        return verified;
    }

    private static byte[]? Extension(X509Certificate2 leaf)
    {
        foreach (var ext in leaf.Extensions)
        {
            if (ext.Oid?.Value == SctListOid)
            {
                return new AsnReader(ext.RawData, AsnEncodingRules.DER).ReadOctetString();
            }
        }

        return null;
    }

    private static List<byte[]> Split(byte[] list)
    {
        var result = new List<byte[]>();
        if (list.Length < 2 || BinaryPrimitives.ReadUInt16BigEndian(list) != list.Length - 2)
        {
            throw new SigstoreException("certificate: malformed SCT list");
        }

        var at = 2;
        while (at < list.Length)
        {
            if (at + 2 > list.Length)
            {
                throw new SigstoreException("certificate: truncated SCT list");
            }

            var len = BinaryPrimitives.ReadUInt16BigEndian(list.AsSpan(at));
            at += 2;
            if (at + len > list.Length)
            {
                throw new SigstoreException("certificate: truncated SCT");
            }

            result.Add(list[at..(at + len)]);
            at += len;
        }

        return result;
    }

    private static bool Verify(byte[] sct, byte[] tbs, byte[] issuerKeyHash, TrustedRoot root, out string? why)
    {
        // version(1) log_id(32) timestamp(8) extensions<0..2^16-1> hash(1) sig(1) signature<0..2^16-1>
        why = null;
        if (sct.Length < 1 + 32 + 8 + 2 || sct[0] != 0)
        {
            why = "an SCT of an unknown version";
            return false;
        }

        var logId = sct.AsSpan(1, 32);
        var timestamp = BinaryPrimitives.ReadUInt64BigEndian(sct.AsSpan(33));
        var extLen = BinaryPrimitives.ReadUInt16BigEndian(sct.AsSpan(41));
        var at = 43 + extLen;
        if (at + 4 > sct.Length)
        {
            why = "a truncated SCT";
            return false;
        }

        var extensions = sct.AsSpan(43, extLen);
        var sigLen = BinaryPrimitives.ReadUInt16BigEndian(sct.AsSpan(at + 2));
        if (at + 4 + sigLen != sct.Length)
        {
            why = "an SCT whose signature length does not fit";
            return false;
        }

        var signature = sct.AsSpan(at + 4, sigLen);
        var log = root.CtLog(logId);
        if (log is null)
        {
            why = $"an SCT from a CT log the trusted root does not name ({Convert.ToBase64String(logId)})";
            return false;
        }

        var time = DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Min(timestamp, long.MaxValue / 2));
        if (!log.ValidFor.Contains(time))
        {
            why = $"an SCT from {log.BaseUrl} at {time:O}, outside its key's validity";
            return false;
        }

        // digitally-signed struct: version, signature_type=certificate_timestamp, timestamp, entry_type=precert_entry,
        // issuer_key_hash, tbs_certificate<1..2^24-1>, extensions.
        var signed = new byte[1 + 1 + 8 + 2 + 32 + 3 + tbs.Length + 2 + extensions.Length];
        var span = signed.AsSpan();
        span[0] = 0;
        span[1] = 0;
        BinaryPrimitives.WriteUInt64BigEndian(span[2..], timestamp);
        BinaryPrimitives.WriteUInt16BigEndian(span[10..], 1);
        issuerKeyHash.CopyTo(span[12..]);
        span[44] = (byte)(tbs.Length >> 16);
        span[45] = (byte)(tbs.Length >> 8);
        span[46] = (byte)tbs.Length;
        tbs.CopyTo(span[47..]);
        BinaryPrimitives.WriteUInt16BigEndian(span[(47 + tbs.Length)..], (ushort)extensions.Length);
        extensions.CopyTo(span[(49 + tbs.Length)..]);
        if (!log.Key.Verify(signed, signature))
        {
            why = $"an SCT whose signature does not verify with {log.BaseUrl}'s key";
            return false;
        }

        return true;
    }

    /// <summary>The leaf's TBSCertificate re-encoded without the SCT list extension.</summary>
    internal static byte[] PrecertificateTbs(byte[] certificate)
    {
        var cert = new AsnReader(certificate, AsnEncodingRules.DER).ReadSequence();
        var tbs = cert.ReadSequence();
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            var extensionsTag = new Asn1Tag(TagClass.ContextSpecific, 3, isConstructed: true);
            while (tbs.HasData)
            {
                if (tbs.PeekTag() != extensionsTag)
                {
                    writer.WriteEncodedValue(tbs.ReadEncodedValue().Span);
                    continue;
                }

                var explicitExt = tbs.ReadSequence(extensionsTag);
                var exts = explicitExt.ReadSequence();
                using (writer.PushSequence(extensionsTag))
                using (writer.PushSequence())
                {
                    while (exts.HasData)
                    {
                        var raw = exts.ReadEncodedValue();
                        var oid = new AsnReader(raw, AsnEncodingRules.DER).ReadSequence().ReadObjectIdentifier();
                        if (oid != SctListOid)
                        {
                            writer.WriteEncodedValue(raw.Span);
                        }
                    }
                }
            }
        }

        return writer.Encode();
    }
}
