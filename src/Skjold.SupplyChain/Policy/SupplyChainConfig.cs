using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Skjold.Engine.Policy;
using Skjold.SupplyChain.Crypto;
using Skjold.SupplyChain.Oci;
using Skjold.SupplyChain.Sigstore;

namespace Skjold.SupplyChain.Policy;

/// <summary>
/// Reads the <c>supplyChain:</c> section of skjold.yaml. Files it names (trusted root, keys, registry
/// credentials, CAs) are read now, so a missing or malformed one is a start-up error naming file and line,
/// not a denied pod later. Every problem of the section is reported at once.
/// </summary>
public static partial class SupplyChainConfig
{
    private static readonly string[] Keys = ["trustedRoot", "registryConfig", "caFile", "allowHttpLoopback", "timeout", "cache", "images", "exemptions", "vulnerabilities"];
    private static readonly string[] RuleKeys = ["name", "images", "namespaces", "mode", "mutateDigest", "threshold", "keys", "identities", "transparencyLog", "attestations"];
    private static readonly string[] IdentityKeys = ["issuer", "subject", "issuerRegExp", "subjectRegExp"];

    /// <summary>The settings (none when the file has no supplyChain:); relative paths are relative to <paramref name="baseDirectory"/>.</summary>
    public static SupplyChainSettings Parse(string yaml, string file, string baseDirectory)
    {
        if (YamlMap.Section(yaml, file, "supplyChain", Keys) is not { } map)
        {
            return SupplyChainSettings.None;
        }

        TrustedRoot? root = null;
        if (map.String("trustedRoot") is { } rootPath)
        {
            root = Read(map, "trustedRoot", rootPath, baseDirectory, bytes => TrustedRoot.Parse(bytes));
        }

        var credentials = RegistryCredentials.None;
        if (map.String("registryConfig") is { } cfg)
        {
            credentials = Read(map, "registryConfig", cfg, baseDirectory, bytes => RegistryCredentials.FromDockerConfig(bytes)) ?? RegistryCredentials.None;
        }

        X509Certificate2Collection? trust = null;
        if (map.String("caFile") is { } ca)
        {
            trust = Read(map, "caFile", ca, baseDirectory, bytes =>
            {
                var c = new X509Certificate2Collection();
                c.ImportFromPem(System.Text.Encoding.ASCII.GetString(bytes));
                return c.Count > 0 ? c : throw new CryptographicException("no PEM certificate in the file");
            });
        }

        var timeout = map.Duration("timeout") ?? TimeSpan.FromSeconds(3);
        var cache = map.Map("cache", ["ttl", "negativeTtl", "size"]);
        var rules = new List<ImageRule>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in map.Maps("images", RuleKeys, "name"))
        {
            if (ParseRule(r, baseDirectory, root) is { } rule)
            {
                if (!names.Add(rule.Name))
                {
                    r.Fail("name", $"a second rule named '{rule.Name}'");
                }

                rules.Add(rule);
            }
        }

        var exemptions = new List<ImageExemption>();
        foreach (var e in map.Maps("exemptions", ["images", "namespaces", "reason", "expires"]))
        {
            var images = e.Strings("images");
            var reason = e.String("reason");
            var expires = e.Date("expires");
            if (images.Count == 0)
            {
                e.Fail("images", "an exemption names the images it covers");
            }

            if (reason is null)
            {
                e.Fail("reason", "an exemption needs a reason (auditors ask)");
            }

            if (expires is null && !e.Has("expires"))
            {
                e.Fail("expires", "an exemption needs an expiry date (YYYY-MM-DD)");
            }

            if (images.Count > 0 && reason is not null && expires is { } x)
            {
                exemptions.Add(new ImageExemption(images, e.Strings("namespaces"), reason, x));
            }
        }

        var store = new Vulnerabilities.VulnerabilityReportStore();
        var vulnerabilities = map.Map("vulnerabilities", ["images", "namespaces", "severity", "fixAge", "requireReport", "maxReportAge", "mode", "reports", "reportTokenFile"]) is { } v
            ? ParseVulnerabilities(v, baseDirectory, store)
            : null;
        map.ThrowIfErrors();
        return new SupplyChainSettings
        {
            Vulnerabilities = vulnerabilities,
            Reports = store,
            TrustedRoot = root,
            Registry = new RegistryClientOptions
            {
                Credentials = credentials,
                AllowHttpLoopback = map.Bool("allowHttpLoopback") ?? false,
                RequestTimeout = timeout,
            },
            RegistryTrust = trust,
            CacheTtl = cache?.Duration("ttl") ?? TimeSpan.FromMinutes(10),
            NegativeCacheTtl = cache?.Duration("negativeTtl") ?? TimeSpan.FromSeconds(30),
            CacheSize = cache?.Int("size", 1, 10_000_000) ?? 10_000,
            Rules = rules,
            Exemptions = exemptions,
        };
    }

    private static ImageRule? ParseRule(YamlMap r, string baseDir, TrustedRoot? root)
    {
        var name = r.String("name");
        if (name is null)
        {
            r.Fail("name", "every rule has a name");
        }
        else if (!NamePattern().IsMatch(name))
        {
            r.Fail("name", $"'{name}' must be lower-case letters, digits and '-' (at most 63)");
        }

        var images = r.Strings("images");
        if (images.Count == 0)
        {
            r.Fail("images", "a rule names the images it covers (registry/repository patterns, as in registries.trusted)");
        }

        foreach (var p in images)
        {
            if (!Engine.Workloads.ImageReference.IsValidTrustedEntry(p))
            {
                r.Fail("images", $"'{p}' is not a registry, registry/path or pattern (letters, digits, . - _ / : and the wildcards * and ?)");
            }
        }

        var authorities = new List<SignatureAuthority>();
        var tlog = r.Bool("transparencyLog") ?? true;
        foreach (var k in r.Strings("keys"))
        {
            var pem = k.StartsWith("-----BEGIN", StringComparison.Ordinal) ? k : null;
            var key = pem is not null
                ? Try(r, "keys", () => VerifyingKey.FromPem(pem))
                : Read(r, "keys", k, baseDir, bytes => VerifyingKey.FromPem(System.Text.Encoding.ASCII.GetString(bytes)));
            if (key is not null)
            {
                authorities.Add(new SignatureAuthority(pem is null ? $"key {k}" : $"key {key.Description}", VerificationPolicy.ForKey(key)));
            }
        }

        foreach (var id in r.Maps("identities", IdentityKeys))
        {
            var issuer = Matcher(id, "issuer", "issuerRegExp");
            var subject = Matcher(id, "subject", "subjectRegExp");
            if (issuer is not null && subject is not null)
            {
                authorities.Add(new SignatureAuthority($"{subject} from {issuer}", VerificationPolicy.ForIdentity(subject, issuer)));
            }
        }

        if (authorities.Count == 0)
        {
            r.Fail("keys", "a rule needs at least one of keys: or identities:");
        }

        if (root is null && (r.Has("identities") || tlog))
        {
            r.Fail(r.Has("identities") ? "identities" : "transparencyLog", "keyless signatures and transparency log entries are checked against supplyChain.trustedRoot, which is not set");
        }

        if (!tlog && r.Has("identities"))
        {
            r.Fail("transparencyLog", "keyless signatures always need their transparency log entry; transparencyLog: false is for offline keys only");
        }

        var attestations = new List<AttestationRequirement>();
        foreach (var a in r.Maps("attestations", ["predicateType", "builder"]))
        {
            if (a.String("predicateType") is { } type)
            {
                attestations.Add(new AttestationRequirement(type, a.String("builder")));
            }
            else
            {
                a.Fail("predicateType", "an attestation requirement names its predicate type (e.g. https://slsa.dev/provenance/v1)");
            }
        }

        var mode = r.Enum("mode", "enforce", "warn") ?? "enforce";
        if (name is null || images.Count == 0 || authorities.Count == 0)
        {
            return null;
        }

        return new ImageRule(name, images, r.Strings("namespaces"), mode == "warn" ? ImageRuleMode.Warn : ImageRuleMode.Enforce,
            r.Bool("mutateDigest") ?? false, r.Int("threshold", 1, 16) ?? 1, authorities, tlog, attestations);
    }

    private static Vulnerabilities.VulnerabilityPolicy ParseVulnerabilities(YamlMap v, string baseDir, Vulnerabilities.VulnerabilityReportStore store)
    {
        var severity = v.Enum("severity", "critical", "high", "medium", "low") ?? "high";
        var reports = new List<string>();
        foreach (var r in v.Strings("reports"))
        {
            var full = Path.GetFullPath(r, baseDir);
            if (!File.Exists(full) && !Directory.Exists(full))
            {
                v.Fail("reports", $"{r}: no such file or directory");
                continue;
            }

            reports.Add(full);
        }

        foreach (var problem in store.Load(reports))
        {
            v.Fail("reports", problem);
        }

        string? token = null;
        if (v.String("reportTokenFile") is { } tokenFile)
        {
            token = Read(v, "reportTokenFile", tokenFile, baseDir, bytes => System.Text.Encoding.UTF8.GetString(bytes).Trim() is { Length: >= 16 } t
                ? t
                : throw new FormatException("the token must be at least 16 characters"));
        }

        return new Vulnerabilities.VulnerabilityPolicy
        {
            Images = v.Strings("images"),
            Namespaces = v.Strings("namespaces"),
            Severity = Vulnerabilities.VulnerabilityReportParser.Severity(severity),
            FixAge = v.Duration("fixAge") ?? TimeSpan.FromDays(30),
            RequireReport = v.Bool("requireReport") ?? true,
            MaxReportAge = v.Duration("maxReportAge") ?? TimeSpan.FromDays(7),
            Mode = v.Enum("mode", "enforce", "warn") == "warn" ? ImageRuleMode.Warn : ImageRuleMode.Enforce,
            Reports = reports,
            ReportToken = token,
        };
    }

    private static IdentityMatcher? Matcher(YamlMap m, string exact, string regex)
    {
        var e = m.String(exact);
        var p = m.String(regex);
        if (e is not null && p is not null)
        {
            m.Fail(regex, $"give {exact} or {regex}, not both");
            return null;
        }

        if (e is not null)
        {
            return IdentityMatcher.Exact(e);
        }

        if (p is null)
        {
            m.Fail(exact, $"an identity needs {exact} (exact) or {regex} (a regular expression matched against the whole value)");
            return null;
        }

        return Try(m, regex, () => IdentityMatcher.Pattern(p));
    }

    private static T? Try<T>(YamlMap m, string key, Func<T> read)
        where T : class
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or FormatException or NotSupportedException)
        {
            m.Fail(key, e.Message);
            return null;
        }
    }

    private static T? Read<T>(YamlMap m, string key, string path, string baseDir, Func<byte[], T> parse)
        where T : class
    {
        var full = Path.GetFullPath(Environment.ExpandEnvironmentVariables(path.StartsWith("~/", StringComparison.Ordinal)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path[2..])
            : path), baseDir);
        byte[] bytes;
        try
        {
            var info = new FileInfo(full);
            if (info.Exists && info.Length > 16 * 1024 * 1024)
            {
                m.Fail(key, $"{path}: larger than 16 MiB");
                return null;
            }

            bytes = File.ReadAllBytes(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            m.Fail(key, $"{path}: cannot be read ({e.Message})");
            return null;
        }

        try
        {
            return parse(bytes);
        }
        catch (Exception e) when (e is SigstoreException or RegistryException or CryptographicException or FormatException or ArgumentException)
        {
            m.Fail(key, $"{path}: {e.Message}");
            return null;
        }
    }

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
