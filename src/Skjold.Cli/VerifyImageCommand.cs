using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Skjold.SupplyChain.Crypto;
using Skjold.SupplyChain.Oci;
using Skjold.SupplyChain.Policy;
using Skjold.SupplyChain.Sigstore;

namespace Skjold.Cli;

/// <summary>
/// <c>skjold verify-image IMAGE...</c>: the admission webhook's supply-chain check, from the command line: resolve
/// each image to its digest and verify its cosign signatures (legacy .sig tags and Sigstore bundle referrers)
/// against a key, a keyless identity, or the matching rule of skjold.yaml's supplyChain: section.
/// </summary>
internal static class VerifyImageCommand
{
    public static Command Create(CliContext context)
    {
        var images = new Argument<string[]>("IMAGE") { Description = "Images to verify (registry/repository:tag or @sha256:digest)", Arity = ArgumentArity.OneOrMore };
        var keys = new Option<string[]>("--key") { Description = "Public key file (PEM, as cosign writes) that must have signed; repeat for several", AllowMultipleArgumentsPerToken = false };
        var identity = new Option<string?>("--identity") { Description = "Keyless: the certificate identity (SAN) that must have signed, exactly (e.g. a workflow URL or e-mail)" };
        var identityRegexp = new Option<string?>("--identity-regexp") { Description = "Keyless: a regular expression the whole identity must match" };
        var issuer = new Option<string?>("--issuer") { Description = "Keyless: the OIDC issuer of the signer's identity, exactly (e.g. https://token.actions.githubusercontent.com)" };
        var issuerRegexp = new Option<string?>("--issuer-regexp") { Description = "Keyless: a regular expression the whole issuer must match" };
        var trustedRoot = new Option<string?>("--trusted-root") { Description = "Sigstore trusted_root.json (Fulcio, Rekor, CT and TSA keys); needed for keyless signatures and transparency log entries (default: supplyChain.trustedRoot)" };
        var registryConfig = new Option<string?>("--registry-config") { Description = "Docker config.json with registry credentials (default: supplyChain.registryConfig, else $DOCKER_CONFIG/config.json or ~/.docker/config.json when present)" };
        var registryCa = new Option<string?>("--registry-ca") { Description = "PEM CA certificates for a private registry's TLS" };
        var httpLoopback = new Option<bool>("--allow-http-loopback") { Description = "Speak plain HTTP to a registry on 127.0.0.1/localhost (never to any other host)" };
        var ignoreTlog = new Option<bool>("--insecure-ignore-tlog") { Description = "Accept key-based signatures made offline, with no transparency log entry" };
        var attestation = new Option<string?>("--attestation") { Description = "Also require a verified attestation of this predicate type (e.g. https://slsa.dev/provenance/v1)" };
        var builder = new Option<string?>("--builder") { Description = "With --attestation: the SLSA builder id the provenance must name" };
        var config = new Option<string?>("--config", "-c") { Description = "Configuration file (skjold.yaml): without --key or --identity, the supplyChain: rule that covers each image decides" };
        var ns = new Option<string?>("--namespace", "-n") { Description = "With skjold.yaml's rules: the namespace the image would run in" };
        var timeout = new Option<double>("--timeout") { Description = "Seconds per registry request", DefaultValueFactory = _ => 10 };
        var format = new Option<string>("--format", "-f") { Description = "table or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var command = new Command("verify-image", """
            Verify container image signatures as the admission webhook does: resolve each image to its digest, find its cosign signatures (the sha256-<digest>.sig tag and Sigstore bundle referrers) and verify them against a key, a keyless identity and issuer, or skjold.yaml's supplyChain: rules.

            Examples:
              skjold verify-image --key cosign.pub registry.example.com/apps/api:1.4.2
              skjold verify-image --trusted-root trusted_root.json --issuer https://token.actions.githubusercontent.com --identity-regexp 'https://github.com/acme/.+' ghcr.io/acme/api:1.4.2
              skjold verify-image -c skjold.yaml -n payments registry.example.com/payments/ledger:2.0

            Exit codes: 0 every image verified; 1 an image is unsigned, wrongly signed or its registry did not answer; 2 usage or configuration error.
            """)
        {
            images, keys, identity, identityRegexp, issuer, issuerRegexp, trustedRoot, registryConfig, registryCa, httpLoopback, ignoreTlog, attestation, builder, config, ns, timeout, format,
        };
        command.SetAction(async (parse, ct) =>
        {
            var err = context.Error;
            if (!ConfigLoader.TryLoadSupplyChain(parse.GetValue(config), context.WorkingDirectory, err, out var fromConfig))
            {
                return ExitCodes.UsageOrInputError;
            }

            SupplyChainSettings settings;
            try
            {
                settings = Settings(parse, context, fromConfig, parse.GetValue(images)!, keys, identity, identityRegexp, issuer, issuerRegexp, trustedRoot, registryConfig, registryCa, httpLoopback, ignoreTlog, attestation, builder, timeout);
            }
            catch (UsageException e)
            {
                await err.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            var adHoc = parse.GetValue(keys) is { Length: > 0 } || parse.GetValue(identity) is not null || parse.GetValue(identityRegexp) is not null;
            if (!adHoc && fromConfig.Rules.Count == 0)
            {
                await err.WriteLineAsync("error: nothing to verify against: give --key FILE, or --identity/--identity-regexp with --issuer/--issuer-regexp, or a skjold.yaml with supplyChain.images rules").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            using var service = new ImageVerificationService(settings, time: context.Time);
            var checks = new List<ImageCheck>();
            foreach (var image in parse.GetValue(images)!)
            {
                checks.Add(await service.CheckAsync(image, parse.GetValue(ns), ct).ConfigureAwait(false));
            }

            Write(context, parse.GetValue(format)!, checks);
            return checks.TrueForAll(c => c.Decision is ImageDecision.Verified or ImageDecision.Exempt) ? ExitCodes.Ok : ExitCodes.Findings;
        });
        return command;
    }

    private sealed class UsageException(string message) : Exception(message);

    private static SupplyChainSettings Settings(ParseResult parse, CliContext context, SupplyChainSettings fromConfig, string[] images,
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
        catch (ArgumentException e)
        {
            throw new UsageException($"{flag}-regexp: {e.Message}");
        }
    }

    private static string? DefaultDockerConfig(CliContext context)
    {
        var dir = context.Environment("DOCKER_CONFIG") ?? (context.Environment("HOME") is { } home ? Path.Combine(home, ".docker") : null);
        return dir is not null && File.Exists(Path.Combine(dir, "config.json")) ? Path.Combine(dir, "config.json") : null;
    }

    private static void Write(CliContext context, string format, List<ImageCheck> checks)
    {
        if (format == "json")
        {
            var array = new JsonArray();
            foreach (var c in checks)
            {
                var signatures = new JsonArray();
                foreach (var s in c.Signatures)
                {
                    signatures.Add(new JsonObject
                    {
                        ["layout"] = s.Layout,
                        ["verified"] = s.Verified,
                        ["identity"] = s.Identity,
                        ["issuer"] = s.Issuer,
                        ["key"] = s.Key,
                        ["predicateType"] = s.PredicateType,
                        ["signedAt"] = s.SignedAt?.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                        ["failure"] = s.Failure,
                    });
                }

                array.Add(new JsonObject
                {
                    ["image"] = c.Image,
                    ["digest"] = c.Digest,
                    ["decision"] = c.Decision.ToString().ToLowerInvariant(),
                    ["rule"] = c.Rule?.Name,
                    ["message"] = c.Message,
                    ["signatures"] = signatures,
                });
            }

            context.Out.WriteLine(array.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            return;
        }

        foreach (var c in checks)
        {
            var mark = c.Decision switch
            {
                ImageDecision.Verified => "VERIFIED",
                ImageDecision.Exempt => "EXEMPT",
                ImageDecision.NotCovered => "NOT COVERED",
                ImageDecision.Unavailable => "UNAVAILABLE",
                _ => "FAILED",
            };
            context.Out.WriteLine($"{mark,-12} {c.Image}{(c.Digest is { } d && c.Reference?.Digest is null ? "@" + d : "")}");
            context.Out.WriteLine($"             {c.Message}");
        }
    }
}
