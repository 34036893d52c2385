using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Skjold.SupplyChain.Crypto;

namespace Skjold.SupplyChain.Sigstore;

/// <summary>
/// A log entry's canonicalized body must describe this bundle: same kind and version as declared, the
/// artifact's (or envelope's) digest, the bundle's signature and the same certificate or key. Kinds:
/// hashedrekord 0.0.1 and 0.0.2, dsse 0.0.1 and 0.0.2, intoto 0.0.2.
/// </summary>
internal static class EntryBody
{
    public static void Check(TransparencyLogEntry entry, SigstoreBundle bundle, Artifact artifact, X509Certificate2? leaf, VerifyingKey key)
    {
        using var doc = JsonDocument.Parse(entry.CanonicalizedBody, new JsonDocumentOptions { MaxDepth = 32 });
        var body = doc.RootElement;
        var kind = BundleParser.Str(body, "kind");
        var version = BundleParser.Str(body, "apiVersion");
        if (kind != entry.Kind || version != entry.Version)
        {
            throw new SigstoreException($"the log entry says {entry.Kind} {entry.Version} but its body is {kind} {version}");
        }

        var spec = BundleParser.Obj(body, "spec") ?? throw new SigstoreException("the log entry's body has no spec");
        var signature = bundle.Signature;
        switch ((kind, version))
        {
            case ("hashedrekord", "0.0.1"):
            {
                Need(bundle.MessageSignature is not null, "a hashedrekord entry for a DSSE bundle");
                var hash = BundleParser.Obj(BundleParser.Obj(spec, "data") ?? default, "hash") ?? throw Missing("spec.data.hash");
                Need(BundleParser.Str(hash, "algorithm") == "sha256", "the entry's hash algorithm is not sha256");
                Need(HexEquals(BundleParser.Str(hash, "value"), artifact.Sha256), "the log entry is for a different artifact");
                var sig = BundleParser.Obj(spec, "signature") ?? throw Missing("spec.signature");
                Need(Same(BundleParser.Bytes(sig, "content"), signature), "the log entry's signature is not the bundle's");
                var pk = BundleParser.Obj(sig, "publicKey") ?? throw Missing("spec.signature.publicKey");
                Need(SameVerifier(BundleParser.Bytes(pk, "content"), leaf, key), "the log entry's certificate or key is not the bundle's");
                break;
            }

            case ("hashedrekord", "0.0.2"):
            {
                var v2 = BundleParser.Obj(spec, "hashedRekordV002") ?? throw Missing("spec.hashedRekordV002");
                var data = BundleParser.Obj(v2, "data") ?? throw Missing("data");
                Need(BundleParser.Str(data, "algorithm") == "SHA2_256", "the entry's digest algorithm is not SHA2_256");
                var expected = bundle.MessageSignature is not null ? artifact.Sha256 : SHA256.HashData(bundle.Envelope!.Pae());
                Need(Same(BundleParser.Bytes(data, "digest"), expected), bundle.Envelope is null ? "the log entry is for a different artifact" : "the log entry is for a different DSSE envelope");
                var sig = BundleParser.Obj(v2, "signature") ?? throw Missing("signature");
                Need(Same(BundleParser.Bytes(sig, "content"), signature), "the log entry's signature is not the bundle's");
                Need(SameV2Verifier(BundleParser.Obj(sig, "verifier"), leaf, key), "the log entry's certificate or key is not the bundle's");
                break;
            }

            case ("dsse", "0.0.1"):
            {
                var env = bundle.Envelope ?? throw new SigstoreException("a dsse entry for a bundle without a DSSE envelope");
                var ph = BundleParser.Obj(spec, "payloadHash") ?? throw Missing("spec.payloadHash");
                Need(BundleParser.Str(ph, "algorithm") == "sha256" && HexEquals(BundleParser.Str(ph, "value"), SHA256.HashData(env.Payload)), "the log entry is for a different DSSE payload");
                Need(spec.TryGetProperty("signatures", out var sigs) && sigs.ValueKind == JsonValueKind.Array && sigs.GetArrayLength() == 1, "the log entry must record exactly the envelope's one signature");
                var s = sigs[0];
                Need(Same(BundleParser.Bytes(s, "signature"), signature), "the log entry's signature is not the envelope's");
                Need(SameVerifier(BundleParser.Bytes(s, "verifier"), leaf, key), "the log entry's certificate or key is not the bundle's");
                break;
            }

            case ("dsse", "0.0.2"):
            {
                var env = bundle.Envelope ?? throw new SigstoreException("a dsse entry for a bundle without a DSSE envelope");
                var v2 = BundleParser.Obj(spec, "dsseV002") ?? throw Missing("spec.dsseV002");
                var ph = BundleParser.Obj(v2, "payloadHash") ?? throw Missing("payloadHash");
                Need(BundleParser.Str(ph, "algorithm") == "SHA2_256" && Same(BundleParser.Bytes(ph, "digest"), SHA256.HashData(env.Payload)), "the log entry is for a different DSSE payload");
                Need(v2.TryGetProperty("signatures", out var sigs) && sigs.ValueKind == JsonValueKind.Array && sigs.GetArrayLength() == 1, "the log entry must record exactly the envelope's one signature");
                Need(Same(BundleParser.Bytes(sigs[0], "content"), signature), "the log entry's signature is not the envelope's");
                Need(SameV2Verifier(BundleParser.Obj(sigs[0], "verifier"), leaf, key), "the log entry's certificate or key is not the bundle's");
                break;
            }

            case ("intoto", "0.0.2"):
            {
                var env = bundle.Envelope ?? throw new SigstoreException("an intoto entry for a bundle without a DSSE envelope");
                var content = BundleParser.Obj(spec, "content") ?? throw Missing("spec.content");
                var ph = BundleParser.Obj(content, "payloadHash") ?? throw Missing("content.payloadHash");
                Need(BundleParser.Str(ph, "algorithm") == "sha256" && HexEquals(BundleParser.Str(ph, "value"), SHA256.HashData(env.Payload)), "the log entry is for a different DSSE payload");
                var logged = BundleParser.Obj(content, "envelope") ?? throw Missing("content.envelope");
                Need(BundleParser.Str(logged, "payloadType") == env.PayloadType, "the log entry's payload type is not the envelope's");
                if (BundleParser.Str(logged, "payload") is { } p)
                {
                    Need(SameEncoded(p, env.Payload), "the log entry's payload is not the envelope's");
                }

                Need(logged.TryGetProperty("signatures", out var sigs) && sigs.ValueKind == JsonValueKind.Array && sigs.GetArrayLength() == 1, "the log entry must record exactly the envelope's one signature");
                Need(BundleParser.Str(sigs[0], "sig") is { } sg && SameEncoded(sg, signature), "the log entry's signature is not the envelope's");
                Need(SameVerifier(BundleParser.Bytes(sigs[0], "publicKey"), leaf, key), "the log entry's certificate or key is not the bundle's");
                break;
            }

            default:
                throw new SigstoreException($"unsupported log entry kind {kind} {version}");
        }
    }

    /// <summary>
    /// Rekor's intoto 0.0.2 bodies hold the envelope's base64 fields base64-encoded again; older entries hold
    /// them once. Either form must decode to exactly <paramref name="expected"/>.
    /// </summary>
    private static bool SameEncoded(string field, ReadOnlySpan<byte> expected)
    {
        var once = BundleParser.Decode(field);
        if (Same(once, expected))
        {
            return true;
        }

        try
        {
            return Same(BundleParser.Decode(Encoding.ASCII.GetString(once)), expected);
        }
        catch (SigstoreException)
        {
            return false;
        }
    }

    private static bool SameVerifier(byte[]? pem, X509Certificate2? leaf, VerifyingKey key)
    {
        if (pem is null)
        {
            return false;
        }

        var text = Encoding.ASCII.GetString(pem);
        var fields = PemEncoding.Find(text);
        var der = Convert.FromBase64String(text[fields.Base64Data]);
        return text[fields.Label] switch
        {
            "CERTIFICATE" => leaf is not null && der.AsSpan().SequenceEqual(leaf.RawData),
            "PUBLIC KEY" => leaf is null && der.AsSpan().SequenceEqual(key.SubjectPublicKeyInfo),
            _ => false,
        };
    }

    private static bool SameV2Verifier(JsonElement? verifier, X509Certificate2? leaf, VerifyingKey key)
    {
        if (verifier is not { } v)
        {
            return false;
        }

        if (BundleParser.Obj(v, "x509Certificate") is { } c)
        {
            return leaf is not null && Same(BundleParser.Bytes(c, "rawBytes"), leaf.RawData);
        }

        if (BundleParser.Obj(v, "publicKey") is { } k)
        {
            return leaf is null && Same(BundleParser.Bytes(k, "rawBytes"), key.SubjectPublicKeyInfo);
        }

        return false;
    }

    private static bool Same(byte[]? a, ReadOnlySpan<byte> b) => a is not null && b.Length > 0 && a.AsSpan().SequenceEqual(b);

    private static bool HexEquals(string? hex, ReadOnlySpan<byte> bytes) =>
        hex is not null && bytes.Length > 0 && string.Equals(hex, Convert.ToHexStringLower(bytes), StringComparison.OrdinalIgnoreCase);

    private static void Need(bool condition, string failure)
    {
        if (!condition)
        {
            throw new SigstoreException(failure);
        }
    }

    private static SigstoreException Missing(string what) => new($"the log entry's body has no {what}");
}
