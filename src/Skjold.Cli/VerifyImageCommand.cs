using System.CommandLine;
using Skjold.SupplyChain.Policy;

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
                settings = VerifyImageSettings.From(parse, context, fromConfig, parse.GetValue(images)!, keys, identity, identityRegexp, issuer, issuerRegexp, trustedRoot, registryConfig, registryCa, httpLoopback, ignoreTlog, attestation, builder, timeout);
            }
            catch (VerifyImageSettings.UsageException e)
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

            ImageCheckOutput.Write(context, parse.GetValue(format)!, checks);
            return checks.TrueForAll(c => c.Decision is ImageDecision.Verified or ImageDecision.Exempt) ? ExitCodes.Ok : ExitCodes.Findings;
        });
        return command;
    }
}
