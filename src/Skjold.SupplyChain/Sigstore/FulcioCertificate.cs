using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Skjold.SupplyChain.Sigstore;

/// <summary>What a Fulcio certificate says about its subject: the SAN identities and the OIDC issuer extension.</summary>
public static class FulcioCertificate
{
    private const string SanOid = "2.5.29.17";
    private const string IssuerV1Oid = "1.3.6.1.4.1.57264.1.1";
    private const string IssuerV2Oid = "1.3.6.1.4.1.57264.1.8";

    /// <summary>The subject alternative names that can be signing identities: URIs, e-mail addresses and UTF-8 otherNames.</summary>
    public static IReadOnlyList<string> Identities(X509Certificate2 cert)
    {
        var list = new List<string>();
        foreach (var ext in cert.Extensions)
        {
            if (ext.Oid?.Value != SanOid)
            {
                continue;
            }

            var names = new AsnReader(ext.RawData, AsnEncodingRules.DER).ReadSequence();
            while (names.HasData)
            {
                var tag = names.PeekTag();
                if (tag.TagClass != TagClass.ContextSpecific)
                {
                    names.ReadEncodedValue();
                    continue;
                }

                switch (tag.TagValue)
                {
                    case 1 or 6:
                        list.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, new Asn1Tag(TagClass.ContextSpecific, tag.TagValue)));
                        break;
                    case 0:
                        var other = names.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0));
                        other.ReadObjectIdentifier();
                        var value = other.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0, true));
                        list.Add(value.ReadCharacterString(UniversalTagNumber.UTF8String));
                        break;
                    default:
                        names.ReadEncodedValue();
                        break;
                }
            }
        }

        return list;
    }

    /// <summary>The OIDC issuer: the DER UTF8String of 1.3.6.1.4.1.57264.1.8, else the raw bytes of the legacy 1.3.6.1.4.1.57264.1.1.</summary>
    public static string? Issuer(X509Certificate2 cert)
    {
        string? legacy = null;
        foreach (var ext in cert.Extensions)
        {
            if (ext.Oid?.Value == IssuerV2Oid)
            {
                return new AsnReader(ext.RawData, AsnEncodingRules.DER).ReadCharacterString(UniversalTagNumber.UTF8String);
            }

            if (ext.Oid?.Value == IssuerV1Oid)
            {
                legacy = Encoding.UTF8.GetString(ext.RawData);
            }
        }

        return legacy;
    }
}
