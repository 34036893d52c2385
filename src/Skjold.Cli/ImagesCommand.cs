using System.CommandLine;
using System.Text.Json.Nodes;
using Skjold.SupplyChain.Inventory;
using Skjold.SupplyChain.Policy;

namespace Skjold.Cli;

/// <summary><c>skjold images</c>: the inventory of images a cluster runs, with signature and scan verdicts, as a table, JSON or CycloneDX 1.5.</summary>
internal static class ImagesCommand
{
    public static Command Create(CliContext context)
    {
        var paths = new Argument<string[]>("SNAPSHOT") { Description = "Snapshots (skjold snapshot) or manifests to list the images of", Arity = ArgumentArity.ZeroOrMore };
        var live = new Option<bool>("--cluster") { Description = "Read the live cluster through the Kubernetes API instead of files" };
        var verify = new Option<bool>("--verify") { Description = "Verify each image against skjold.yaml's supplyChain: rules (signatures in the registries) and match its digest to the known scan results" };
        var reports = new Option<string[]>("--reports") { Description = "Scan results to match by digest (Trivy JSON, CycloneDX, SARIF, Trivy operator VulnerabilityReports; files or directories)", AllowMultipleArgumentsPerToken = true };
        var config = new Option<string?>("--config", "-c") { Description = "Configuration file (skjold.yaml) with the supplyChain: section" };
        var format = new Option<string>("--format", "-f") { Description = "table, json or cyclonedx (CycloneDX 1.5 JSON, for auditors)", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json", "cyclonedx");
        var cluster = new ClusterOptions();
        var scope = new InputScope();
        var command = new Command("images", """
            List every image that runs (pods and controllers' pod templates): digest, where, signed or not and by whom, scan summary, and the registry's region for data residency.

            Examples:
              skjold images cluster-snapshot.json
              skjold images --cluster --verify -c skjold.yaml -f cyclonedx -o images.cdx.json
              skjold images manifests/ --reports trivy-results/

            Exit codes: 0 written; 1 with --verify, an image failed its supply-chain rule; 2 usage or input error.
            """)
        {
            paths, live, verify, reports, config, format,
        };
        cluster.AddTo(command);
        scope.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var err = context.Error;
            if (!scope.TryRead(parse, context, out _, out _))
            {
                return ExitCodes.UsageOrInputError;
            }

            if (await cluster.ReadInputAsync(parse, context, parse.GetValue(live), parse.GetValue(paths) ?? [], scope,
                "give a snapshot or manifests, or --cluster (see skjold images --help)", ct).ConfigureAwait(false) is not { } input)
            {
                return ExitCodes.UsageOrInputError;
            }

            var (resources, incomplete) = (input.Resources, input.Incomplete);
            if (!ConfigLoader.TryLoadSupplyChain(parse.GetValue(config), context.WorkingDirectory, err, out var settings))
            {
                return ExitCodes.UsageOrInputError;
            }

            foreach (var problem in settings.Reports.AddFrom(resources))
            {
                await err.WriteLineAsync($"warning: {problem}").ConfigureAwait(false);
            }

            var extra = parse.GetValue(reports) ?? [];
            foreach (var problem in settings.Reports.Load(extra.Select(p => Path.GetFullPath(p, context.WorkingDirectory))))
            {
                await err.WriteLineAsync($"warning: {problem}").ConfigureAwait(false);
            }

            var check = parse.GetValue(verify) || extra.Length > 0 || settings.Reports.Count > 0;
            if (parse.GetValue(verify) && settings.Rules.Count == 0)
            {
                await err.WriteLineAsync("warning: --verify without supplyChain.images rules: no signature is checked (every image shows 'no rule')").ConfigureAwait(false);
            }

            using var service = check ? new ImageVerificationService(settings, time: context.Time) : null;
            var entries = await ImageInventory.BuildAsync(resources, service, ct).ConfigureAwait(false);
            Write(context, parse.GetValue(format)!, entries);
            if (incomplete)
            {
                return ExitCodes.UsageOrInputError;
            }

            return parse.GetValue(verify) && entries.Any(e => e.Signature is "failed" or "unavailable") ? ExitCodes.Findings : ExitCodes.Ok;
        });
        return command;
    }

    private static void Write(CliContext context, string format, IReadOnlyList<InventoryEntry> entries)
    {
        switch (format)
        {
            case "cyclonedx":
                context.Out.WriteLine(CycloneDxInventory.Write(entries, CliContext.Version, context.Time.GetUtcNow()));
                return;
            case "json":
                var array = new JsonArray();
                foreach (var e in entries)
                {
                    array.Add((JsonNode)new JsonObject
                    {
                        ["image"] = e.Image,
                        ["registry"] = e.Registry,
                        ["repository"] = e.Repository,
                        ["tag"] = e.Tag,
                        ["digest"] = e.Digest,
                        ["signature"] = e.Signature,
                        ["signedBy"] = e.SignedBy,
                        ["vulnerabilities"] = e.Vulnerabilities,
                        ["registryRegion"] = e.Region,
                        ["registryInEea"] = e.RegionInEea,
                        ["locations"] = new JsonArray([.. e.Locations.Select(l => (JsonNode)new JsonObject
                        {
                            ["kind"] = l.Kind,
                            ["namespace"] = l.Namespace,
                            ["name"] = l.Name,
                            ["container"] = l.Container,
                        })]),
                    });
                }

                context.Out.WriteLine(array.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
                return;
            default:
                context.Out.WriteLine($"{"IMAGE",-48} {"DIGEST",-19} {"SIGNATURE",-12} {"VULNERABILITIES",-28} {"REGION",-24} WHERE");
                foreach (var e in entries)
                {
                    var digest = e.Digest is { Length: > 19 } d ? d[..19] : e.Digest ?? "-";
                    var where = e.Locations.Count == 1 ? $"{e.Locations[0].Namespace}/{e.Locations[0].Name}" : $"{e.Locations.Count} workloads";
                    context.Out.WriteLine($"{Cut(e.Image, 48),-48} {digest,-19} {e.Signature,-12} {Cut(e.Vulnerabilities, 28),-28} {Cut(e.Region, 24),-24} {where}");
                }

                context.Out.WriteLine($"{entries.Count} images in {entries.Sum(e => e.Locations.Count)} containers.");
                return;
        }
    }

    private static string Cut(string s, int width) => s.Length <= width ? s : s[..(width - 1)] + "…";
}
