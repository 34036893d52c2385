using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Skjold.SupplyChain.Sigstore;

/// <summary>
/// Reads a Sigstore bundle's protobuf-JSON form strictly: an unknown media type, bad base64, a negative
/// index, an empty certificate chain or missing required parts are errors (a <see cref="SigstoreException"/>),
/// never defaults. Inputs are bounded: at most <see cref="MaxBytes"/> and JSON depth 32.
/// </summary>
public static class BundleParser
{
    public const int MaxBytes = 8 * 1024 * 1024;

    public static SigstoreBundle Parse(ReadOnlySpan<byte> json)
    {
        if (json.Length > MaxBytes)
        {
            throw new SigstoreException($"bundle: {json.Length} bytes is more than the {MaxBytes}-byte limit");
        }

        try
        {
            using var doc = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 32 });
            return Read(doc.RootElement);
        }
        catch (JsonException e)
        {
            throw new SigstoreException($"bundle: not valid JSON: {e.Message}", e);
        }
        catch (Exception e) when (e is FormatException or CryptographicException or InvalidOperationException or KeyNotFoundException or OverflowException)
        {
            throw new SigstoreException($"bundle: {e.Message}", e);
        }
    }

    private static SigstoreBundle Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new SigstoreException("bundle: not a JSON object");
        }

        var mediaType = Str(root, "mediaType") ?? throw new SigstoreException("bundle: no mediaType");
        var minor = mediaType switch
        {
            "application/vnd.dev.sigstore.bundle+json;version=0.1" => 1,
            "application/vnd.dev.sigstore.bundle+json;version=0.2" => 2,
            "application/vnd.dev.sigstore.bundle+json;version=0.3" or "application/vnd.dev.sigstore.bundle.v0.3+json" => 3,
            _ => throw new SigstoreException($"bundle: unsupported media type {mediaType}"),
        };

        var material = Obj(root, "verificationMaterial") ?? throw new SigstoreException("bundle: no verificationMaterial");
        X509Certificate2? leaf = null;
        var rest = new List<X509Certificate2>();
        string? hint = null;
        if (Obj(material, "certificate") is { } single)
        {
            leaf = Certificate(single);
        }
        else if (Obj(material, "x509CertificateChain") is { } chain)
        {
            if (minor >= 3)
            {
                throw new SigstoreException("bundle: a v0.3 bundle carries a single certificate, not a chain");
            }

            var certs = chain.TryGetProperty("certificates", out var c) ? c : default;
            if (certs.ValueKind != JsonValueKind.Array || certs.GetArrayLength() == 0)
            {
                throw new SigstoreException("bundle: the certificate chain is empty");
            }

            foreach (var cert in certs.EnumerateArray())
            {
                var x = Certificate(cert);
                if (leaf is null)
                {
                    leaf = x;
                }
                else
                {
                    rest.Add(x);
                }
            }
        }
        else if (Obj(material, "publicKey") is { } pk)
        {
            hint = Str(pk, "hint") ?? "";
        }
        else
        {
            throw new SigstoreException("bundle: no certificate, certificate chain or public key in verificationMaterial");
        }

        var entries = new List<TransparencyLogEntry>();
        if (material.TryGetProperty("tlogEntries", out var tl) && tl.ValueKind == JsonValueKind.Array)
        {
            foreach (var e in tl.EnumerateArray())
            {
                entries.Add(Entry(e));
            }
        }

        var timestamps = new List<byte[]>();
        if (Obj(material, "timestampVerificationData") is { } tvd && tvd.TryGetProperty("rfc3161Timestamps", out var ts) && ts.ValueKind == JsonValueKind.Array)
        {
            foreach (var t in ts.EnumerateArray())
            {
                timestamps.Add(Bytes(t, "signedTimestamp") ?? throw new SigstoreException("bundle: an RFC 3161 timestamp without signedTimestamp"));
            }
        }

        MessageSignature? message = null;
        DsseEnvelope? envelope = null;
        if (Obj(root, "messageSignature") is { } ms)
        {
            var sig = Bytes(ms, "signature") ?? throw new SigstoreException("bundle: messageSignature without a signature");
            var digest = Obj(ms, "messageDigest");
            message = new MessageSignature(digest is { } d1 ? Str(d1, "algorithm") : null, digest is { } d2 ? Bytes(d2, "digest") : null, sig);
        }
        else if (Obj(root, "dsseEnvelope") is { } env)
        {
            var sigs = new List<byte[]>();
            if (env.TryGetProperty("signatures", out var ss) && ss.ValueKind == JsonValueKind.Array)
            {
                foreach (var s in ss.EnumerateArray())
                {
                    sigs.Add(Bytes(s, "sig") ?? throw new SigstoreException("bundle: a DSSE signature without sig"));
                }
            }

            if (sigs.Count != 1)
            {
                throw new SigstoreException($"bundle: a DSSE envelope must carry exactly one signature, found {sigs.Count}");
            }

            envelope = new DsseEnvelope(
                Str(env, "payloadType") ?? throw new SigstoreException("bundle: DSSE envelope without payloadType"),
                Bytes(env, "payload") ?? throw new SigstoreException("bundle: DSSE envelope without payload"),
                sigs);
        }
        else
        {
            throw new SigstoreException("bundle: neither messageSignature nor dsseEnvelope");
        }

        return new SigstoreBundle(mediaType, minor, leaf, rest, hint, entries, timestamps, message, envelope);
    }

    private static TransparencyLogEntry Entry(JsonElement e)
    {
        var index = Int(e, "logIndex") ?? throw new SigstoreException("bundle: a tlog entry without logIndex");
        if (index < 0)
        {
            throw new SigstoreException($"bundle: tlog entry has a negative log index {index}");
        }

        var logId = Obj(e, "logId") is { } l ? Bytes(l, "keyId") : null;
        var kv = Obj(e, "kindVersion") ?? throw new SigstoreException("bundle: a tlog entry without kindVersion");
        var integrated = Int(e, "integratedTime");
        if (integrated is 0)
        {
            integrated = null; // proto3 default: Rekor v2 entries carry no integrated time
        }

        var set = Obj(e, "inclusionPromise") is { } p ? Bytes(p, "signedEntryTimestamp") : null;
        InclusionProof? proof = null;
        if (Obj(e, "inclusionProof") is { } ip)
        {
            var hashes = new List<byte[]>();
            if (ip.TryGetProperty("hashes", out var hs) && hs.ValueKind == JsonValueKind.Array)
            {
                foreach (var h in hs.EnumerateArray())
                {
                    hashes.Add(Decode(h.GetString() ?? ""));
                }
            }

            var proofIndex = Int(ip, "logIndex") ?? 0;
            var size = Int(ip, "treeSize") ?? 0;
            if (proofIndex < 0 || size < 0)
            {
                throw new SigstoreException("bundle: inclusion proof with a negative index or size");
            }

            proof = new InclusionProof(proofIndex, Bytes(ip, "rootHash") ?? [], size, hashes,
                Obj(ip, "checkpoint") is { } cp ? Str(cp, "envelope") : null);
        }

        return new TransparencyLogEntry(
            index,
            logId ?? throw new SigstoreException("bundle: a tlog entry without logId"),
            Str(kv, "kind") ?? "",
            Str(kv, "version") ?? "",
            integrated,
            set,
            proof,
            Bytes(e, "canonicalizedBody") ?? throw new SigstoreException("bundle: a tlog entry without canonicalizedBody"));
    }

    private static X509Certificate2 Certificate(JsonElement e)
    {
        var raw = Bytes(e, "rawBytes") ?? throw new SigstoreException("bundle: a certificate without rawBytes");
        return X509CertificateLoader.LoadCertificate(raw);
    }

    internal static JsonElement? Obj(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object ? v : null;

    internal static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    internal static byte[]? Bytes(JsonElement e, string name) => Str(e, name) is { } s ? Decode(s) : null;

    /// <summary>Protobuf JSON int64: a decimal string or a number.</summary>
    internal static long? Int(JsonElement e, string name)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(name, out var v))
        {
            return null;
        }

        return v.ValueKind switch
        {
            JsonValueKind.Number => v.GetInt64(),
            JsonValueKind.String => long.Parse(v.GetString()!, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture),
            _ => throw new SigstoreException($"bundle: {name} is not an integer"),
        };
    }

    /// <summary>Protobuf JSON bytes: standard or URL-safe base64, padded or not; anything else is an error.</summary>
    internal static byte[] Decode(string s)
    {
        var t = s.Replace('-', '+').Replace('_', '/');
        var pad = t.Length % 4;
        if (pad == 1)
        {
            throw new SigstoreException("bundle: invalid base64");
        }

        if (pad > 0 && !t.EndsWith('='))
        {
            t += new string('=', 4 - pad);
        }

        try
        {
            return Convert.FromBase64String(t);
        }
        catch (FormatException e)
        {
            throw new SigstoreException("bundle: invalid base64", e);
        }
    }
}
