using System.CommandLine;
using System.Text.Json.Nodes;
using Skjold.Server.Deployment;

namespace Skjold.Cli;

/// <summary><c>skjold install</c>: writes the manifests that run Skjold in a cluster.</summary>
internal static class InstallCommand
{
    public static Command Create(CliContext context)
    {
        var ns = new Option<string>("--namespace", "-n") { Description = "Namespace for Skjold", DefaultValueFactory = _ => "skjold-system" };
        var output = new Option<string?>("--output", "-o") { Description = "Directory to write one file per component into (default: one YAML stream on stdout)" };
        var image = new Option<string>("--image") { Description = "Skjold image; pin it with @sha256:... for production", DefaultValueFactory = _ => $"ghcr.io/skjold-dev/skjold:{CliContext.Version}" };
        var replicas = new Option<int>("--replicas") { Description = "Webhook replicas (at least 2 keeps admission up through node drains)", DefaultValueFactory = _ => 2 };
        var certManager = new Option<bool>("--cert-manager") { Description = "Let cert-manager issue and rotate the serving certificate instead of generating one now" };
        var podFailure = new Option<string>("--pod-failure-policy") { Description = "failurePolicy of the pod webhook: Fail (enforce even when Skjold is down) or Ignore", DefaultValueFactory = _ => "Fail" };
        podFailure.AcceptOnlyFromAmong("Fail", "Ignore");
        var format = new Option<string>("--format", "-f") { Description = "yaml or json: the manifests on stdout (a v1 List in JSON), or with --output the summary", DefaultValueFactory = _ => "yaml" };
        format.AcceptOnlyFromAmong("yaml", "json");
        var responder = new Option<string?>("--incident-responder") { Description = "Also write the ClusterRole skjold-incident-responder (what skjold incident apply needs for every runbook), bound to this group" };
        var timeout = new Option<int>("--webhook-timeout") { Description = "timeoutSeconds of the webhooks (1-30); Skjold answers within this minus 2 s", DefaultValueFactory = _ => 5 };
        var command = new Command("install", "Write Kubernetes manifests for Skjold: Deployment, PodDisruptionBudget, Service, RBAC, NetworkPolicy and webhook configurations.")
        {
            ns, output, image, replicas, certManager, podFailure, timeout, format, responder,
        };
        command.SetAction(parse =>
        {
            var t = parse.GetValue(timeout);
            if (t is < 1 or > 30)
            {
                context.Error.WriteLine("error: --webhook-timeout must be between 1 and 30 seconds (the API server's limits)");
                return ExitCodes.UsageOrInputError;
            }

            if (parse.GetValue(replicas) < 1)
            {
                context.Error.WriteLine("error: --replicas must be at least 1");
                return ExitCodes.UsageOrInputError;
            }

            var options = new InstallManifests.Options(parse.GetValue(ns)!, parse.GetValue(image)!, parse.GetValue(replicas), parse.GetValue(certManager), parse.GetValue(podFailure)!, t);
            var files = InstallManifests.Render(options, context.Time).ToList();
            if (parse.GetValue(responder) is { } group)
            {
                files.Add(("15-incident-responder.yaml", Skjold.Incidents.ResponderRole.Yaml(group)));
                files.Sort((a, b) => string.CompareOrdinal(a.Item1, b.Item1));
            }
            if (parse.GetValue(output) is { } dir)
            {
                InstallManifests.WriteTo(Path.GetFullPath(dir, context.WorkingDirectory), files);
                if (parse.GetValue(format) == "json")
                {
                    context.Out.WriteLine(Summary.Json(new JsonObject
                    {
                        ["directory"] = dir,
                        ["files"] = new JsonArray([.. files.Select(f => (JsonNode)f.File)]),
                        ["privateKeyFile"] = options.CertManager ? null : Path.Combine(dir, InstallManifests.CertificateFile),
                    }));
                    return ExitCodes.Ok;
                }

                context.Error.WriteLine($"Wrote {files.Count} files to {dir}. Apply with: kubectl apply -f {dir}");
                if (!options.CertManager)
                {
                    context.Error.WriteLine($"{dir}/{InstallManifests.CertificateFile} holds the webhook's private key (written mode 600): apply it, do not commit it (add {dir}/ to .gitignore).");
                }
            }
            else
            {
                context.Out.Write(parse.GetValue(format) == "json" ? Summary.Json(InstallManifests.AsList(files)) + "\n" : InstallManifests.AsYamlStream(files));
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
