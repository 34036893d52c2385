using System.CommandLine;
using System.Security.Cryptography;
using Skjold.Engine.Checks;
using Skjold.Engine.Compliance;
using Skjold.Engine.Model;
using Skjold.Kubernetes.Loading;
using Skjold.Reports;
using Skjold.Reports.Compliance;
using Skjold.Reports.Evidence;

namespace Skjold.Cli;

/// <summary><c>skjold report</c> and <c>skjold frameworks</c>: evidence for auditors, per framework control.</summary>
internal static class ReportCommand
{
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
        var drills = new Option<string?>("--drills-from") { Description = "An audit trail's data directory: its closed incident drills count as dated evidence for the incident-management controls (ISO/IEC 27001 5.24, 5.26, NIS2 21(2)(b), NSM 4.1)" };
        var verifyImages = new Option<bool>("--verify-images") { Description = "Also run the supply-chain checks of skjold.yaml's supplyChain: section (image signatures in the registries, scan results), so their controls are measured" };
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
            paths, framework, live, nodeResults, format, output, baseline, config, bundle, signingKey, failUnder, verifyImages, drills,
        };
        cluster.AddTo(command);
        scope.AddTo(command);
        command.Subcommands.Add(ReportEvidenceCommands.Verify(context));
        command.Subcommands.Add(ReportEvidenceCommands.Keygen(context));
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
            if (parse.GetValue(drills) is { } trail)
            {
                try
                {
                    policy = policy.WithAttestations(await Skjold.Incidents.DrillEvidence.FromTrailAsync(Path.GetFullPath(trail, context.WorkingDirectory), ct).ConfigureAwait(false));
                }
                catch (Skjold.Audit.Storage.AuditStoreException ex)
                {
                    await err.WriteLineAsync($"error: --drills-from: {ex.Message}").ConfigureAwait(false);
                    return ExitCodes.UsageOrInputError;
                }
            }

            // Input: manifests, snapshot or the live cluster; node results are optional.
            var given = parse.GetValue(paths) ?? [];
            var nodeFiles = parse.GetValue(nodeResults) ?? [];
            if (await cluster.ReadInputAsync(parse, context, parse.GetValue(live), given, scope, null, ct, allowEmpty: nodeFiles.Length > 0).ConfigureAwait(false) is not { } input)
            {
                return ExitCodes.UsageOrInputError;
            }

            var (resources, incomplete) = (input.Resources, input.Incomplete);
            List<string> labels = input.Config is not null ? ["live cluster"] : [.. given.Select(g => SourcePaths.InputLabel(g, context.WorkingDirectory, ManifestLoader.StdinName))];
            if (resources.Count == 0 && nodeFiles.Length == 0)
            {
                await err.WriteLineAsync("error: give manifests, a snapshot, --cluster or --node-results to report on").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            EvidenceInputs files;
            try
            {
                files = await EvidenceFiles.ReadAsync(nodeFiles, policy.Source, parse.GetValue(baseline), context.WorkingDirectory, ct).ConfigureAwait(false);
            }
            catch (EvidenceInputException ex)
            {
                await err.WriteLineAsync(EvidenceError(ex, parse.GetValue(baseline))).ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            if (parse.GetValue(verifyImages))
            {
                if (SupplyChainScan.Collect(parse.GetValue(config), resources, context) is not { } external)
                {
                    return ExitCodes.UsageOrInputError;
                }

                files = files with { External = [external] };
            }

            // Large inputs show how far the scan is, as skjold scan does.
            var line = resources.Count >= ProgressLine.LargeInput ? ProgressLine.For(parse, context) : null;
            ComplianceReport report;
            try
            {
                report = new EvidenceBuilder(policy, CheckCatalog.Default, context.Time, CliContext.Version, context.WorkingDirectory).Build(fw,
                    files with { Resources = resources, ResourceLabels = labels }, line?.Of<int>(n => $"scanned {n:N0} of {resources.Count:N0} resources..."));
            }
            catch (EvidenceInputException ex)
            {
                await err.WriteLineAsync(EvidenceError(ex, parse.GetValue(baseline))).ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }
            finally
            {
                line?.Done();
            }

            if (ComplianceWriters.CoverageWarning(report) is { } warning)
            {
                await err.WriteLineAsync($"warning: {warning}").ConfigureAwait(false);
            }

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

            var text = new StringWriter();
            ComplianceWriters.Write(report, parse.GetValue(format)!, text);
            if (!OutputFile.TryWrite(context, outFile, text.ToString()))
            {
                return ExitCodes.UsageOrInputError;
            }

            await err.WriteLineAsync(ComplianceWriters.Summary(report) + (outFile is { } o ? $"; written to {o}" : string.Empty)).ConfigureAwait(false);
            if (parse.GetValue(bundle) is { } bundleFile)
            {
                try
                {
                    var keyPem = await File.ReadAllTextAsync(Path.GetFullPath(parse.GetValue(signingKey)!, context.WorkingDirectory), ct).ConfigureAwait(false);
                    var (signed, keyId) = EvidenceBundle.Create(report, keyPem);
                    await File.WriteAllTextAsync(Path.GetFullPath(bundleFile, context.WorkingDirectory), signed, ct).ConfigureAwait(false);
                    await err.WriteLineAsync($"Signed evidence bundle written to {bundleFile} (key {keyId}).").ConfigureAwait(false);
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

    /// <summary>The one-line error for a node-results or baseline file, named by the option it was given with.</summary>
    private static string EvidenceError(EvidenceInputException ex, string? baselineFile) => ex.Kind switch
    {
        EvidenceInputKind.Baseline => $"error: --baseline {ex.File ?? baselineFile}: {ex.Message}{(ex.NotAReport ? "; give a report written with 'skjold report -f json'" : string.Empty)}",
        _ => ex.File is { } f ? $"error: --node-results {f}: {ex.Message}" : $"error: --node-results {ex.Message}",
    };
}
