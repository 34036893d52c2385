using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Skjold.Audit.Signing;
using Skjold.Reports.Evidence;

namespace Skjold.Cli;

/// <summary><c>skjold report verify</c> and <c>skjold report keygen</c>: signed evidence bundles.</summary>
internal static class ReportEvidenceCommands
{
    public const string SigningKeyFile = "evidence-signing.key";
    public const string PublicKeyFile = "evidence-signing.pub.pem";

    public static Command Verify(CliContext context)
    {
        var file = new Argument<string>("BUNDLE") { Description = "Evidence bundle written by skjold report --bundle" };
        var publicKey = new Option<string>("--public-key") { Description = "The signer's public key (PEM)", Required = true };
        var extract = new Option<string?>("--extract") { Description = "Also write the verified report (JSON) to this file" };
        var verifyFormat = new Option<string>("--format", "-f") { Description = "table or json", DefaultValueFactory = _ => "table" };
        verifyFormat.AcceptOnlyFromAmong("table", "json");
        var command = new Command("verify", "Verify an evidence bundle's signature and digest with the signer's public key; print what it attests.\nExit codes: 0 valid, 1 invalid or tampered, 2 usage or input error.")
        {
            file, publicKey, extract, verifyFormat,
        };
        command.SetAction(parse =>
        {
            string bundleText;
            string keyPem;
            try
            {
                bundleText = File.ReadAllText(Path.GetFullPath(parse.GetValue(file)!, context.WorkingDirectory));
                keyPem = File.ReadAllText(Path.GetFullPath(parse.GetValue(publicKey)!, context.WorkingDirectory));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                context.Error.WriteLine($"error: {ex.Message}");
                return ExitCodes.UsageOrInputError;
            }

            var outcome = EvidenceBundle.Verify(bundleText, keyPem);
            if (parse.GetValue(verifyFormat) == "json")
            {
                context.Out.WriteLine(Summary.Json(new JsonObject
                {
                    ["valid"] = outcome.IsValid,
                    ["error"] = outcome.Error,
                    ["summary"] = outcome.Summary,
                }));
            }
            else
            {
                context.Out.WriteLine(outcome.IsValid ? $"VALID: {outcome.Summary}" : $"INVALID: {outcome.Error}");
            }

            if (!outcome.IsValid)
            {
                return outcome.Verdict == EvidenceVerdict.Malformed ? ExitCodes.UsageOrInputError : ExitCodes.Findings;
            }

            if (parse.GetValue(extract) is { } target)
            {
                try
                {
                    File.WriteAllBytes(Path.GetFullPath(target, context.WorkingDirectory), outcome.Payload!);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    context.Error.WriteLine($"error: cannot write {target}: {ex.Message}");
                    return ExitCodes.UsageOrInputError;
                }
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Keygen(CliContext context)
    {
        var output = new Option<string>("--output", "-o") { Description = "Directory for the key pair", Required = true };
        var command = new Command("keygen", $"Create an ECDSA P-256 key pair for signing evidence bundles: {SigningKeyFile} (keep secret) and {PublicKeyFile} (give to auditors).") { output };
        command.SetAction(parse =>
        {
            var dir = Path.GetFullPath(parse.GetValue(output)!, context.WorkingDirectory);
            var keyPath = Path.Combine(dir, SigningKeyFile);
            if (File.Exists(keyPath))
            {
                context.Error.WriteLine($"error: {keyPath} already exists; not overwriting it");
                return ExitCodes.UsageOrInputError;
            }

            Directory.CreateDirectory(dir);
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            AuditKeys.WritePrivate(keyPath, key.ExportPkcs8PrivateKeyPem() + "\n");

            File.WriteAllText(Path.Combine(dir, PublicKeyFile), key.ExportSubjectPublicKeyInfoPem() + "\n");
            context.Out.WriteLine($"Created {keyPath} (mode 600) and {Path.Combine(dir, PublicKeyFile)}; key id {EvidenceBundle.KeyIdOf(key)}.");
            return ExitCodes.Ok;
        });
        return command;
    }
}
