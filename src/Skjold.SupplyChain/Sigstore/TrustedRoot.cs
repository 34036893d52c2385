using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Skjold.SupplyChain.Crypto;

namespace Skjold.SupplyChain.Sigstore;

/// <summary>A log (Rekor or CT) the trusted root names: its key, the key's validity and the log's host.</summary>
public sealed record TrustedLog(string BaseUrl, byte[] LogId, VerifyingKey Key, TimeRange ValidFor)
{
    /// <summary>The host (with a non-default port) of the base URL: the name a Rekor checkpoint is signed under.</summary>
    public string Host => Uri.TryCreate(BaseUrl, UriKind.Absolute, out var u) ? u.Authority : BaseUrl;
}

/// <summary>A certificate authority (Fulcio) or timestamp authority: its chain, leaf-most first, and its validity.</summary>
public sealed record TrustedAuthority(string Uri, IReadOnlyList<X509Certificate2> Chain, TimeRange ValidFor);

/// <summary>
/// Sigstore trust material (<c>trusted_root.json</c>, media type
/// <c>application/vnd.dev.sigstore.trustedroot+json;version=0.1</c>): transparency logs, certificate
/// authorities, CT logs and timestamp authorities, each with a validity interval. Read from a file only;
/// nothing is fetched from the network.
/// </summary>
public sealed class TrustedRoot
{
    public IReadOnlyList<TrustedLog> TransparencyLogs { get; }

    public IReadOnlyList<TrustedLog> CtLogs { get; }

    public IReadOnlyList<TrustedAuthority> CertificateAuthorities { get; }

    public IReadOnlyList<TrustedAuthority> TimestampAuthorities { get; }

    private TrustedRoot(IReadOnlyList<TrustedLog> tlogs, IReadOnlyList<TrustedLog> ctlogs, IReadOnlyList<TrustedAuthority> cas, IReadOnlyList<TrustedAuthority> tsas)
    {
        TransparencyLogs = tlogs;
        CtLogs = ctlogs;
        CertificateAuthorities = cas;
        TimestampAuthorities = tsas;
    }

    public static TrustedRoot Load(string path) => Parse(File.ReadAllBytes(path));

    /// <summary>Parses a trusted root; a malformed one (a key without a validity start, say) is an error, never an unbounded trust.</summary>
    public static TrustedRoot Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 32 });
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new SigstoreException("trusted root: not a JSON object");
            }

            if (root.TryGetProperty("mediaType", out var mt) && mt.GetString() is { } mediaType
                && !mediaType.StartsWith("application/vnd.dev.sigstore.trustedroot", StringComparison.Ordinal))
            {
                throw new SigstoreException($"trusted root: unexpected media type {mediaType}");
            }

            return new TrustedRoot(Logs(root, "tlogs"), Logs(root, "ctlogs"), Authorities(root, "certificateAuthorities"), Authorities(root, "timestampAuthorities"));
        }
        catch (Exception e) when (e is JsonException or FormatException or CryptographicException or InvalidOperationException or KeyNotFoundException)
        {
            throw new SigstoreException($"trusted root: {e.Message}", e);
        }
    }

    /// <summary>The transparency log with this id, or null.</summary>
    public TrustedLog? TransparencyLog(ReadOnlySpan<byte> logId) => Find(TransparencyLogs, logId);

    /// <summary>The CT log with this id, or null.</summary>
    public TrustedLog? CtLog(ReadOnlySpan<byte> logId) => Find(CtLogs, logId);

    private static TrustedLog? Find(IReadOnlyList<TrustedLog> logs, ReadOnlySpan<byte> id)
    {
        foreach (var log in logs)
        {
            if (log.LogId.AsSpan().SequenceEqual(id))
            {
                return log;
            }
        }

        return null;
    }

    private static List<TrustedLog> Logs(JsonElement root, string name)
    {
        var list = new List<TrustedLog>();
        if (!root.TryGetProperty(name, out var logs))
        {
            return list;
        }

        foreach (var log in logs.EnumerateArray())
        {
            var pk = log.GetProperty("publicKey");
            var raw = Convert.FromBase64String(pk.GetProperty("rawBytes").GetString()!);
            var details = pk.TryGetProperty("keyDetails", out var d) ? d.GetString() ?? "" : "";
            var key = VerifyingKey.FromDer(raw, pkcs1Rsa: details.StartsWith("PKCS1_", StringComparison.Ordinal));
            var id = Convert.FromBase64String(log.GetProperty("logId").GetProperty("keyId").GetString()!);
            var validFor = pk.TryGetProperty("validFor", out var v)
                ? Range(v, $"{name} {log.GetProperty("baseUrl").GetString()}")
                : throw new SigstoreException($"trusted root: {name} key {Convert.ToBase64String(id)} has no validFor");
            list.Add(new TrustedLog(log.TryGetProperty("baseUrl", out var b) ? b.GetString() ?? "" : "", id, key, validFor));
        }

        return list;
    }

    private static List<TrustedAuthority> Authorities(JsonElement root, string name)
    {
        var list = new List<TrustedAuthority>();
        if (!root.TryGetProperty(name, out var cas))
        {
            return list;
        }

        foreach (var ca in cas.EnumerateArray())
        {
            var chain = new List<X509Certificate2>();
            foreach (var cert in ca.GetProperty("certChain").GetProperty("certificates").EnumerateArray())
            {
                chain.Add(X509CertificateLoader.LoadCertificate(Convert.FromBase64String(cert.GetProperty("rawBytes").GetString()!)));
            }

            if (chain.Count == 0)
            {
                throw new SigstoreException($"trusted root: a {name} entry has an empty certificate chain");
            }

            var uri = ca.TryGetProperty("uri", out var u) ? u.GetString() ?? "" : "";
            var validFor = ca.TryGetProperty("validFor", out var v)
                ? Range(v, $"{name} {uri}")
                : throw new SigstoreException($"trusted root: {name} {uri} has no validFor");
            list.Add(new TrustedAuthority(uri, chain, validFor));
        }

        return list;
    }

    private static TimeRange Range(JsonElement validFor, string what)
    {
        if (!validFor.TryGetProperty("start", out var start) || start.GetString() is not { } s)
        {
            throw new SigstoreException($"trusted root: {what} has a validFor without a start");
        }

        DateTimeOffset? end = validFor.TryGetProperty("end", out var e) && e.GetString() is { } es ? Time(es) : null;
        return new TimeRange(Time(s), end);
    }

    private static DateTimeOffset Time(string s) =>
        DateTimeOffset.Parse(s, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal);
}
