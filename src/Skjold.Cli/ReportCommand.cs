using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Skjold.Audit.Signing;
using Skjold.Engine;
using Skjold.Engine.Checks;
using Skjold.Engine.Compliance;
using Skjold.Engine.Model;
using Skjold.Engine.Policy;
using Skjold.Reports.Compliance;
using Spectre.Console;

namespace Skjold.Cli;

/// <summary><c>skjold report</c> and <c>skjold frameworks</c>: evidence for auditors, per framework control.</summary>
internal static class ReportCommand
{
    public const string SigningKeyFile = "evidence-signing.key";
    public const string PublicKeyFile = "evidence-signing.pub.pem";

    public static Command Create(CliContext context)
    {
        var framework = new Option<string?>("--framework") { Description = "Framework: cis, nsa, iso27001, gdpr, nsm, pci-dss or nis2 (see skjold frameworks)" };
        var paths = new Argument<string[]>("PATH") { Description = "Manifests, kubectl dumps or a snapshot (or --cluster)", Arity = ArgumentArity.ZeroOrMore };
        var live = new Option<bool>("--cluster") { Description = "Read the live cluster through the Kubernetes API" };
        var nodeResults = new Option<string[]>("--node-results") { Description = "JSON reports of skjold node-check (one per node; repeatable)", AllowMultipleArgumentsPerToken = true };
        var format = new Option<string>("--format", "-f") { Description = "html, json, markdown (or md), csv or policyreport", DefaultValueFactory = _ => "html" };
        format.AcceptOnlyFromAmong(ComplianceWriters.Formats);
        var output = new Option<string?>("--output", "-o") { Description = "Write the report to this file (default stdout)" };
        var baseline = new Option<string?>("--baseline") { Description = "An earlier JSON report of the same framework: show what got better or worse" };
        var config = new Option<string?>("--config", "-c") { Description = "Configuration file with attestations (default: skjold.yaml in the working directory if present)" };
        var bundle = new Option<string?>("--bundle") { Description = "Also write a signed evidence bundle (JSON report + ECDSA signature) to this file" };
        var signingKey = new Option<string?>("--signing-key") { Description = "PEM private key for --bundle (create one with skjold report keygen)" };
        var failUnder = new Option<double?>("--fail-under") { Description = "Exit with 1 when the score is below this (0-100)" };
        failUnder.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double?>() is { } v && (v < 0 || v > 100 || double.IsNaN(v)))
            {
                r.AddError($"--fail-under must be a score from 0 to 100, not {v.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
            }
        });
        var cluster = new ClusterOptions();
        var scope = new InputScope();
        var command = new Command("report",
            "Report a framework's controls (pass, partial, fail, manual, not applicable) with the findings behind each, a score, and a diff against an earlier report.\n" +
            "Exit codes: 0 written, 1 score below --fail-under, 2 usage or input error.")
        {
            paths, framework, live, nodeResults, format, output, baseline, config, bundle, signingKey, failUnder,
        };
        cluster.AddTo(command);
        scope.AddTo(command);
        command.Subcommands.Add(Verify(context));
        command.Subcommands.Add(Keygen(context));
        command.SetAction(async (parse, ct) =>
        {
            var err = context.Error;
            var fwId = parse.GetValue(framework);
            if (fwId is null || FrameworkCatalog.Default.Find(fwId) is not { } fw)
            {
                await err.WriteLineAsync($"error: give --framework, one of {string.Join(", ", FrameworkCatalog.Default.Frameworks.Select(f => f.Id))}").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            if (parse.GetValue(bundle) is not null && parse.GetValue(signingKey) is null)
            {
                await err.WriteLineAsync("error: --bundle needs --signing-key (create one with skjold report keygen --output DIR)").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            if (!ConfigLoader.TryLoad(parse.GetValue(config), context.WorkingDirectory, err, out var policy)
                || !scope.TryRead(parse, context, out var defaultNamespace, out var kubeMinor))
            {
                return ExitCodes.UsageOrInputError;
            }

            policy = policy.With(kubeMinor ?? policy.KubeMinor, defaultNamespace);

            // Input: manifests, snapshot or the live cluster; node results are optional.
            var inputs = new List<string>();
            var incomplete = false;
            IReadOnlyList<Resource> resources = [];
            var given = parse.GetValue(paths) ?? [];
            if (parse.GetValue(live))
            {
                if ((await cluster.TryReadAsync(parse, context, scope.Given(parse), ct).ConfigureAwait(false))?.Loaded is not { } clusterObjects)
                {
                    return ExitCodes.UsageOrInputError;
                }

                resources = clusterObjects.Resources;
                inputs.Add("live cluster");
            }
            else if (given.Length > 0)
            {
                if (InputFiles.Load(given, context, defaultNamespace, parse.GetValue(scope.AllowEmpty) || (parse.GetValue(nodeResults)?.Length ?? 0) > 0) is not { } loaded)
                {
                    return ExitCodes.UsageOrInputError;
                }

                resources = loaded.Resources;
                incomplete = loaded.Incomplete;
                inputs.AddRange(given.Select(g => g == Skjold.Kubernetes.Loading.ManifestLoader.StdinName || !Path.IsPathRooted(g) ? g
                    : Path.GetRelativePath(context.WorkingDirectory, g) is var rel && !rel.StartsWith("..", StringComparison.Ordinal) ? rel : Path.GetFileName(g.TrimEnd('/'))));
            }

            var nodeFiles = parse.GetValue(nodeResults) ?? [];
            if (resources.Count == 0 && nodeFiles.Length == 0)
            {
                await err.WriteLineAsync("error: give manifests, a snapshot, --cluster or --node-results to report on").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            var scanner = new Scanner(policy, CheckCatalog.Default, context.Time);
            // Large inputs show how far the scan is, as skjold scan does.
            var line = resources.Count >= ProgressLine.LargeInput ? ProgressLine.For(parse, context) : null;
            var scanned = new List<Finding>();
            var waived = new List<SuppressedFinding>();
            var scanDiagnostics = scanner.Scan(resources, null, scanned.Add, waived.Add, line?.Of<int>(n => $"scanned {n:N0} of {resources.Count:N0} resources..."));
            line?.Done();
            var result = new ScanResult(scanned, waived, scanDiagnostics, resources.Count);
            // Places relative to the working directory: a report leaves this machine's paths behind.
            var findings = result.Findings.Select(f => f with { Location = ScanCommand.Relativize(f.Location, context.WorkingDirectory) }).ToList();
            var evaluated = resources.Count > 0 ? scanner.EvaluatedChecks(resources) : [];
            using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            foreach (var r in resources)
            {
                digest.AppendData(Encoding.UTF8.GetBytes(r.Root.GetRawText()));
                digest.AppendData("\n"u8);
            }

            foreach (var file in nodeFiles)
            {
                try
                {
                    var bytes = await File.ReadAllBytesAsync(Path.GetFullPath(file, context.WorkingDirectory), ct).ConfigureAwait(false);
                    digest.AppendData(bytes);
                    var (nodeFindings, nodeEvaluated) = ReadNodeResults(bytes, file);
                    findings.AddRange(nodeFindings);
                    evaluated.UnionWith(nodeEvaluated);
                    inputs.Add(file);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
                {
                    await err.WriteLineAsync($"error: --node-results {file}: {ex.Message}").ConfigureAwait(false);
                    return ExitCodes.UsageOrInputError;
                }
            }

            // The configuration decides exemptions and attestations, so it is part of what was measured.
            if (policy.Source is { } configFile && File.Exists(configFile))
            {
                digest.AppendData(await File.ReadAllBytesAsync(configFile, ct).ConfigureAwait(false));
                inputs.Add($"{Path.GetRelativePath(context.WorkingDirectory, configFile)} (configuration)");
            }

            (DateTimeOffset, double, IReadOnlyDictionary<string, string>)? previous = null;
            string? baselineDigest = null;
            if (parse.GetValue(baseline) is { } baselineFile)
            {
                try
                {
                    var b = ComplianceWriters.ReadBaseline(await File.ReadAllTextAsync(Path.GetFullPath(baselineFile, context.WorkingDirectory), ct).ConfigureAwait(false));
                    if (b.Framework != fw.Id)
                    {
                        await err.WriteLineAsync($"error: --baseline {baselineFile} is a {b.Framework} report, not {fw.Id}").ConfigureAwait(false);
                        return ExitCodes.UsageOrInputError;
                    }

                    previous = (b.GeneratedAt, b.Score, b.Statuses);
                    baselineDigest = b.InputDigest;
                }
                catch (JsonException ex)
                {
                    await err.WriteLineAsync($"error: --baseline {baselineFile} is not JSON (line {ex.LineNumber + 1}); give a report written with 'skjold report -f json'").ConfigureAwait(false);
                    return ExitCodes.UsageOrInputError;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or KeyNotFoundException or InvalidOperationException)
                {
                    await err.WriteLineAsync($"error: --baseline {baselineFile}: {ex.Message}").ConfigureAwait(false);
                    return ExitCodes.UsageOrInputError;
                }
            }

            var report = ComplianceEvaluator.Evaluate(fw, findings, result.Suppressed, evaluated, policy, CheckCatalog.Default, context.Time.GetUtcNow(),
                CliContext.Version, "sha256:" + Convert.ToHexStringLower(digest.GetHashAndReset()), inputs, previous, baselineDigest);
            if (report.Diff is { } diff && diff.CoverageChanged.Any())
            {
                await err.WriteLineAsync($"warning: {diff.CoverageChanged.Count()} controls moved between evaluated and manual or not applicable against the baseline" +
                    (diff.InputsDiffer ? " because the inputs differ from the baseline's" : string.Empty) +
                    "; better and worse count only controls evaluated in both").ConfigureAwait(false);
            }
            var text = new StringWriter();
            ComplianceWriters.Write(report, parse.GetValue(format)!, text);
            var outFile = parse.GetValue(output);
            if (outFile is null && parse.GetValue(format) == "html" && context.OutputIsTerminal)
            {
                // HTML is for a browser, not a terminal: it goes to a file named after the framework.
                outFile = $"skjold-{fw.Id}-report.html";
                if (File.Exists(Path.GetFullPath(outFile, context.WorkingDirectory)))
                {
                    await err.WriteLineAsync($"error: the HTML report would go to {outFile}, which exists; give --output FILE (or -f json|markdown|csv for the terminal)").ConfigureAwait(false);
                    return ExitCodes.UsageOrInputError;
                }
            }

            if (outFile is not null)
            {
                try
                {
                    await File.WriteAllTextAsync(Path.GetFullPath(outFile, context.WorkingDirectory), text.ToString(), new UTF8Encoding(false), ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    await err.WriteLineAsync($"error: cannot write {outFile}: {ex.Message}").ConfigureAwait(false);
                    return ExitCodes.UsageOrInputError;
                }
            }
            else
            {
                await context.Out.WriteAsync(text.ToString()).ConfigureAwait(false);
            }

            await err.WriteLineAsync($"{fw.Title}: score {report.Score.ToString("0.0", CultureInfo.InvariantCulture)}; " +
                $"{report.Count(ControlStatus.Pass)} pass, {report.Count(ControlStatus.Partial)} partial, {report.Count(ControlStatus.Fail)} fail, " +
                $"{report.Count(ControlStatus.Manual)} manual, {report.Count(ControlStatus.NotApplicable)} not applicable" +
                (outFile is { } o ? $"; written to {o}" : string.Empty)).ConfigureAwait(false);

            if (parse.GetValue(bundle) is { } bundleFile)
            {
                try
                {
                    var keyPem = await File.ReadAllTextAsync(Path.GetFullPath(parse.GetValue(signingKey)!, context.WorkingDirectory), ct).ConfigureAwait(false);
                    using var key = ECDsa.Create();
                    key.ImportFromPem(keyPem);
                    var payload = Encoding.UTF8.GetBytes(ComplianceWriters.Json(report));
                    await File.WriteAllTextAsync(Path.GetFullPath(bundleFile, context.WorkingDirectory), EvidenceBundle.Create(payload, report, key), ct).ConfigureAwait(false);
                    await err.WriteLineAsync($"Signed evidence bundle written to {bundleFile} (key {AuditKeys.KeyIdOf(key)}).").ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
                {
                    await err.WriteLineAsync($"error: cannot write the bundle: {ex.Message}").ConfigureAwait(false);
                    return ExitCodes.UsageOrInputError;
                }
            }

            if (incomplete)
            {
                await err.WriteLineAsync("error: some input could not be read (see above); the report covers only what was read").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            return parse.GetValue(failUnder) is { } min && report.Score < min ? ExitCodes.Findings : ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Findings and evaluated checks from a node-check JSON report.</summary>
    internal static (List<Finding> Findings, List<string> Evaluated) ReadNodeResults(byte[] json, string name)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        if (!root.TryGetProperty("evaluatedChecks", out var evaluated))
        {
            throw new FormatException($"{name} is not a skjold node-check JSON report (no evaluatedChecks)");
        }

        var findings = new List<Finding>();
        foreach (var f in root.GetProperty("findings").EnumerateArray())
        {
            var id = f.GetProperty("checkId").GetString()!;
            if (!id.StartsWith("node/", StringComparison.Ordinal) || !CheckCatalog.Default.TryGet(id, out var meta))
            {
                continue;
            }

            var res = f.GetProperty("resource");
            SeverityNames.TryParse(f.GetProperty("severity").GetString(), out var severity);
            SourceLocation? location = f.TryGetProperty("location", out var l) && l.ValueKind == JsonValueKind.Object
                ? new SourceLocation(l.GetProperty("file").GetString()!, l.GetProperty("line").GetInt32()) : null;
            findings.Add(new Finding(id, severity ?? meta.Severity,
                new ResourceRef(res.GetProperty("apiVersion").GetString()!, res.GetProperty("kind").GetString()!, null, res.GetProperty("name").GetString()!),
                f.TryGetProperty("path", out var p) ? p.GetString() ?? string.Empty : string.Empty, f.GetProperty("message").GetString()!, meta.Remediation, location));
        }

        return (findings, [.. evaluated.EnumerateArray().Select(e => e.GetString()!)]);
    }

    private static Command Verify(CliContext context)
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
                context.Out.WriteLine(new System.Text.Json.Nodes.JsonObject
                {
                    ["valid"] = outcome.Error is null,
                    ["error"] = outcome.Error,
                    ["summary"] = outcome.Error is null ? outcome.Summary : null,
                }.ToJsonString(Summary.IndentedOptions));
            }
            else if (outcome.Error is { } e)
            {
                context.Out.WriteLine($"INVALID: {e}");
            }

            if (outcome.Error is not null)
            {
                return outcome.Usage ? ExitCodes.UsageOrInputError : ExitCodes.Findings;
            }

            if (parse.GetValue(verifyFormat) != "json")
            {
                context.Out.WriteLine($"VALID: {outcome.Summary}");
            }
            if (parse.GetValue(extract) is { } target)
            {
                File.WriteAllBytes(Path.GetFullPath(target, context.WorkingDirectory), outcome.Payload!);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Keygen(CliContext context)
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
            context.Out.WriteLine($"Created {keyPath} (mode 600) and {Path.Combine(dir, PublicKeyFile)}; key id {AuditKeys.KeyIdOf(key)}.");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary><c>skjold frameworks</c>: the catalogs and how much of each Skjold checks automatically.</summary>
    public static Command Frameworks(CliContext context)
    {
        var format = new Option<string>("--format", "-f") { Description = "table or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var id = new Argument<string?>("FRAMEWORK") { Description = "Show this framework's controls: the checks behind each, or manual and what to ask the provider", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("frameworks", "List the compliance frameworks Skjold maps its checks to, with how many controls are checked automatically and how many are manual; " +
            "with a framework id, list its controls.") { id, format };
        command.SetAction(parse =>
        {
            if (parse.GetValue(id) is { } fwId)
            {
                if (FrameworkCatalog.Default.Find(fwId) is not { } fw)
                {
                    context.Error.WriteLine($"error: unknown framework '{fwId}'; known: {string.Join(", ", FrameworkCatalog.Default.Frameworks.Select(f => f.Id))}");
                    return ExitCodes.UsageOrInputError;
                }

                return WriteControls(fw, parse.GetValue(format) == "json");
            }

            var rows = FrameworkCatalog.Default.Frameworks.Select(f => new FrameworkRow(f.Id, f.Name, f.Version, f.Controls.Count,
                f.Controls.Count(c => !f.IsManual(c.Id)), f.Controls.Count(c => f.IsManual(c.Id)), f.ChecksByControl.Values.SelectMany(x => x).Distinct().Count())).ToList();
            if (parse.GetValue(format) == "json")
            {
                context.Out.WriteLine(JsonSerializer.Serialize(rows, ReportJsonContext.Default.ListFrameworkRow));
                return ExitCodes.Ok;
            }

            var console = Skjold.Reports.PlainConsole.Create(context.Out, false, context.TerminalWidth ?? 1_000_000);
            console.Profile.Width = 160;
            var table = new Table().Border(TableBorder.Simple);
            foreach (var c in new[] { "ID", "Framework", "Version", "Controls", "Checked by Skjold", "Manual", "Checks mapped" })
            {
                table.AddColumn(c);
            }

            foreach (var r in rows)
            {
                table.AddRow(r.Id, r.Name, r.Version, r.Controls.ToString(CultureInfo.InvariantCulture), $"{r.Automated} ({100.0 * r.Automated / r.Controls:0}%)",
                    r.Manual.ToString(CultureInfo.InvariantCulture), r.Checks.ToString(CultureInfo.InvariantCulture));
            }

            console.Write(table);
            console.WriteLine("Manual controls are met by attestations in skjold.yaml (attestations:); see docs/compliance.md. Controls of one framework: skjold frameworks ID.");
            return ExitCodes.Ok;
        });
        return command;

        int WriteControls(Framework fw, bool json)
        {
            var rows = fw.Controls.Select(c => new ControlRow(c.Id, c.Title, c.Group, fw.IsManual(c.Id) ? "manual" : "automated", [.. fw.ChecksOf(c.Id)], [.. c.Questions])).ToList();
            if (json)
            {
                context.Out.WriteLine(JsonSerializer.Serialize(rows, ReportJsonContext.Default.ListControlRow));
                return ExitCodes.Ok;
            }

            context.Out.WriteLine($"{fw.Title} ({fw.Id}): {fw.Controls.Count} controls, source: {fw.Source}");
            foreach (var r in rows)
            {
                context.Out.WriteLine();
                context.Out.WriteLine($"{r.Id}  {r.Title}" + (r.Group is null ? string.Empty : $"  [{r.Group}]"));
                context.Out.WriteLine(r.Checks.Count == 0 ? "    manual: met by an attestation (attestations: in skjold.yaml)" : $"    checks: {string.Join(", ", r.Checks)}");
                foreach (var q in r.ProviderQuestions)
                {
                    context.Out.WriteLine($"    ask the provider: {q}");
                }
            }

            return ExitCodes.Ok;
        }
    }
}

/// <summary>A signed evidence bundle: the JSON report (base64, so its bytes are exactly what was signed), its digest and an ECDSA P-256 signature.</summary>
internal static class EvidenceBundle
{

    public static string Create(byte[] payload, ComplianceReport report, ECDsa key)
    {
        var signature = key.SignData(payload, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var bundle = new BundleFile("SkjoldEvidenceBundle", 1, report.Framework.Id, report.Score, report.GeneratedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            "ECDSA-P256-SHA256", AuditKeys.KeyIdOf(key), Convert.ToHexStringLower(SHA256.HashData(payload)), Convert.ToBase64String(payload), Convert.ToBase64String(signature));
        return JsonSerializer.Serialize(bundle, ReportJsonContext.Default.BundleFile) + "\n";
    }

    public static (string? Error, bool Usage, string? Summary, byte[]? Payload) Verify(string bundleText, string publicKeyPem)
    {
        BundleFile? bundle;
        try
        {
            bundle = JsonSerializer.Deserialize(bundleText, ReportJsonContext.Default.BundleFile);
        }
        catch (JsonException ex)
        {
            return ($"not an evidence bundle: {ex.Message}", true, null, null);
        }

        if (bundle is null || bundle.Kind != "SkjoldEvidenceBundle" || bundle.Report is null || bundle.Signature is null)
        {
            return ("not an evidence bundle (kind SkjoldEvidenceBundle with report and signature)", true, null, null);
        }

        using var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(publicKeyPem);
        }
        catch (ArgumentException ex)
        {
            return ($"--public-key is not a PEM public key: {ex.Message}", true, null, null);
        }

        byte[] payload;
        byte[] signature;
        try
        {
            payload = Convert.FromBase64String(bundle.Report);
            signature = Convert.FromBase64String(bundle.Signature);
        }
        catch (FormatException)
        {
            return ("the report or signature is not valid base64: the bundle was altered", false, null, null);
        }

        if (AuditKeys.KeyIdOf(key) != bundle.KeyId)
        {
            return ($"signed with key {bundle.KeyId}, but the public key given is {AuditKeys.KeyIdOf(key)}", false, null, null);
        }

        if (Convert.ToHexStringLower(SHA256.HashData(payload)) != bundle.ReportSha256)
        {
            return ("the report's SHA-256 does not match the digest in the bundle: the report was altered", false, null, null);
        }

        if (!key.VerifyData(payload, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence))
        {
            return ("the signature does not match the report: altered, or signed with another key", false, null, null);
        }

        using var doc = JsonDocument.Parse(payload);
        var root = doc.RootElement;
        var fw = root.GetProperty("framework");
        var summaryFields = root.GetProperty("framework").GetProperty("id").GetString() != bundle.Framework || Math.Abs(root.GetProperty("score").GetDouble() - bundle.Score) > 0.001
            ? " (note: the bundle's unsigned summary fields differ from the signed report; trust the report)"
            : string.Empty;
        return (null, false, $"{fw.GetProperty("name").GetString()} {fw.GetProperty("version").GetString()} report of {root.GetProperty("generatedAt").GetString()}, " +
            $"score {root.GetProperty("score").GetDouble().ToString("0.0", CultureInfo.InvariantCulture)}, input {root.GetProperty("inputDigest").GetString()}, " +
            $"Skjold {root.GetProperty("toolVersion").GetString()}, signed with key {bundle.KeyId}{summaryFields}", payload);
    }
}

internal sealed record BundleFile(string Kind, int Version, string Framework, double Score, string GeneratedAt, string Algorithm, string KeyId, string ReportSha256, string Report, string Signature);

internal sealed record FrameworkRow(string Id, string Name, string Version, int Controls, int Automated, int Manual, int Checks);

internal sealed record ControlRow(string Id, string Title, string? Group, string Kind, List<string> Checks, List<string> ProviderQuestions);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(BundleFile))]
[System.Text.Json.Serialization.JsonSerializable(typeof(List<FrameworkRow>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(List<ControlRow>))]
internal sealed partial class ReportJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
