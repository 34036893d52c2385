using System.CommandLine;
using System.Security.Cryptography;
using Skjold.SupplyChain.Crypto;
using Skjold.SupplyChain.Oci;
using Skjold.SupplyChain.Policy;
using Skjold.SupplyChain.Sigstore;

namespace Skjold.Cli;

/// <summary>The supply-chain settings of a verify-image run: skjold.yaml's, with the command line's key, identity, trust and registry flags over them.</summary>
internal static class VerifyImageSettings
{
    internal sealed class UsageException(string message) : Exception(message);

    public static SupplyChainSettings From(ParseResult parse, CliContext context, SupplyChainSettings fromConfig, string[] images,
        Option<string[]> keys, Option<string?> identity, Option<string?> identityRegexp, Option<string?> issuer, Option<string?> issuerRegexp,
        Option<string?> trustedRoot, Option<string?> registryConfig, Option<string?> registryCa, Option<bool> httpLoopback, Option<bool> ignoreTlog,
        Option<string?> attestation, Option<string?> builder, Option<double> timeout)
    {
        string Full(string p) => Path.GetFullPath(p, context.WorkingDirectory);
        byte[] Read(string flag, string p)
        {
            try
            {
                return File.ReadAllBytes(Full(p));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"{flag} {p}: {e.Message}");
            }
        }

        var root = fromConfig.TrustedRoot;
        if (parse.GetValue(trustedRoot) is { } rootPath)
        {
            try
            {
                root = TrustedRoot.Parse(Read("--trusted-root", rootPath));
            }
            catch (SigstoreException e)
            {
                throw new UsageException($"--trusted-root {rootPath}: {e.Message}");
            }
        }

        var credentials = fromConfig.Registry.Credentials;
        var dockerConfig = parse.GetValue(registryConfig) ?? (credentials.Count == 0 ? DefaultDockerConfig(context) : null);
        if (dockerConfig is not null)
        {
            try
            {
                credentials = RegistryCredentials.FromDockerConfig(Read("--registry-config", dockerConfig));
            }
            catch (RegistryException e)
            {
                throw new UsageException($"--registry-config {dockerConfig}: {e.Message}");
            }
        }

        var trust = fromConfig.RegistryTrust;
        if (parse.GetValue(registryCa) is { } caPath)
        {
            trust = [];
            try
            {
                trust.ImportFromPem(System.Text.Encoding.ASCII.GetString(Read("--registry-ca", caPath)));
            }
            catch (CryptographicException e)
            {
                throw new UsageException($"--registry-ca {caPath}: {e.Message}");
            }
        }

        var rules = fromConfig.Rules;
        var authorities = new List<SignatureAuthority>();
        foreach (var k in parse.GetValue(keys) ?? [])
        {
            try
            {
                authorities.Add(new SignatureAuthority($"key {k}", VerificationPolicy.ForKey(VerifyingKey.FromPem(System.Text.Encoding.ASCII.GetString(Read("--key", k))))));
            }
            catch (CryptographicException e)
            {
                throw new UsageException($"--key {k}: {e.Message}");
            }
        }

        var id = Matcher(parse.GetValue(identity), parse.GetValue(identityRegexp), "--identity");
        var iss = Matcher(parse.GetValue(issuer), parse.GetValue(issuerRegexp), "--issuer");
        if ((id is null) != (iss is null))
        {
            throw new UsageException("keyless verification needs both an identity (--identity or --identity-regexp) and an issuer (--issuer or --issuer-regexp)");
        }

        if (id is not null)
        {
            if (root is null)
            {
                throw new UsageException("keyless verification needs --trusted-root (Sigstore's trusted_root.json) or supplyChain.trustedRoot");
            }

            authorities.Add(new SignatureAuthority($"{id} from {iss}", VerificationPolicy.ForIdentity(id, iss!)));
        }

        var tlog = !parse.GetValue(ignoreTlog);
        if (authorities.Count > 0)
        {
            if (tlog && root is null)
            {
                throw new UsageException("checking the transparency log entry needs --trusted-root; for key signatures made offline give --insecure-ignore-tlog");
            }

            var attestations = parse.GetValue(attestation) is { } type ? new List<AttestationRequirement> { new(type, parse.GetValue(builder)) } : [];
            // The command line's rule covers the registries of the images given, in any namespace.
            var registries = new List<string>();
            foreach (var image in images)
            {
                if (ImageReference.TryParse(image, out var r, out _) && !registries.Contains(r!.Registry))
                {
                    registries.Add(r.Registry);
                }
            }

            rules = [new ImageRule("command-line", registries, [], ImageRuleMode.Enforce, false, 1, authorities, tlog, attestations)];
        }

        return fromConfig with
        {
            TrustedRoot = root,
            Registry = fromConfig.Registry with
            {
                Credentials = credentials,
                AllowHttpLoopback = fromConfig.Registry.AllowHttpLoopback || parse.GetValue(httpLoopback),
                RequestTimeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
            },
            RegistryTrust = trust,
            Rules = rules,
            Exemptions = authorities.Count > 0 ? [] : fromConfig.Exemptions,
        };
    }

    private static IdentityMatcher? Matcher(string? exact, string? regex, string flag)
    {
        if (exact is not null && regex is not null)
        {
            throw new UsageException($"give {flag} or {flag}-regexp, not both");
        }

        try
        {
            return exact is not null ? IdentityMatcher.Exact(exact) : regex is not null ? IdentityMatcher.Pattern(regex) : null;
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            throw new UsageException($"{flag}-regexp: {e.Message}");
        }
    }

    private static string? DefaultDockerConfig(CliContext context)
    {
        var dir = context.Environment("DOCKER_CONFIG") ?? (context.Environment("HOME") is { } home ? Path.Combine(home, ".docker") : null);
        return dir is not null && File.Exists(Path.Combine(dir, "config.json")) ? Path.Combine(dir, "config.json") : null;
    }
}
