using System.CommandLine;
using Skjold.Engine.Pss;

namespace Skjold.Cli;

/// <summary><c>skjold init</c>: writes a commented default skjold.yaml.</summary>
internal static class InitCommand
{
    public static Command Create(CliContext context)
    {
        var output = new Option<string>("--output", "-o") { Description = "Where to write the configuration", DefaultValueFactory = _ => "skjold.yaml" };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing file" };
        var format = Summary.FormatOption();
        var command = new Command("init", "Write a commented default configuration file (skjold.yaml).") { output, force, format };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(output)!;
            var full = Path.IsPathRooted(path) ? path : Path.Combine(context.WorkingDirectory, path);
            if (File.Exists(full) && !parse.GetValue(force))
            {
                context.Error.WriteLine($"error: {path} already exists; use --force to overwrite it");
                return ExitCodes.UsageOrInputError;
            }

            if (Path.GetDirectoryName(full) is { } dir && !Directory.Exists(dir))
            {
                context.Error.WriteLine($"error: cannot write {path}: the directory {dir} does not exist");
                return ExitCodes.UsageOrInputError;
            }

            var existed = File.Exists(full);
            File.WriteAllText(full, DefaultConfig);
            context.Out.WriteLine(Summary.IsJson(parse, format)
                ? Summary.Json(new System.Text.Json.Nodes.JsonObject { ["written"] = path, ["overwritten"] = existed })
                : $"Wrote {path}. Edit it, then run: skjold scan <path>");
            return ExitCodes.Ok;
        });
        return command;
    }

    internal static string DefaultConfig => $$"""
        # skjold.yaml: how Skjold judges your manifests. Every key is optional.
        # Reference: docs/configuration.md. Check ids: `skjold checks`.

        pss:
          # Pod Security Standards level: privileged (no PSS checks), baseline or restricted.
          level: restricted
          # Policy version, as in the pod-security.kubernetes.io/enforce-version label:
          # v1.0 ... v1.{{PssVersion.NewestKnownMinor}}, or latest.
          version: latest

        checks:
          # Checks to switch off (exact ids, or a prefix ending in *).
          disable: []
          # Checks that are off by default and should run.
          enable: []
          # Severity overrides: info, low, medium, high, critical.
          severity: {}
          #   wl/image-tag: high

        registries:
          # Images must come from one of these registries or path prefixes. While the list is
          # empty the wl/trusted-registry check does not run.
          trusted: []
          #   - registry.example.com
          #   - ghcr.io/example-org/

        # Exemptions waive checks for matching resources. Every criterion given must match.
        # A reason is required; an exemption past its expiry date stops applying and is itself
        # reported (config/exemption-expired).
        exemptions: []
        #  - checks: [wl/replicas]
        #    namespaces: [batch-tools]
        #    kinds: [Deployment]
        #    names: [report-*]
        #    selector:
        #      matchLabels: {app: reporting}
        #    reason: Single-instance reporting job; an outage is acceptable (risk R-123).
        #    expires: 2027-06-30

        # Inline, on a resource:
        #   metadata:
        #     annotations:
        #       skjold.io/suppress: wl/readonly-root-fs
        #       skjold.io/suppress-reason: Legacy image writes to /tmp; tracked in JIRA-42.

        """;
}
