using System.CommandLine;
using Skjold.Audit.Storage;
using Skjold.Incidents;
using Skjold.Kubernetes.Live;

namespace Skjold.Cli;

/// <summary><c>skjold incident apply</c> and <c>drill</c>: the runbook through the Kubernetes API, each step dry-run first and sealed in the trail.</summary>
internal static class IncidentApplyCommand
{
    public static Command Apply(CliContext context)
    {
        var id = new Argument<string>("ID");
        var step = new Option<int?>("--step") { Description = "Only this step (again, even if done)" };
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not ask before disruptive steps" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Only server-side dry runs: nothing in the cluster changes (the rehearsal is recorded)" };
        var force = new Option<bool>("--force") { Description = "Act in protected namespaces (kube-system, skjold-system) too" };
        var fromFile = new Option<string[]>("--from-file") { Description = "secret-exposed: KEY=FILE with the secret's new value (repeatable); values are never logged", AllowMultipleArgumentsPerToken = true };
        var evidenceDir = new Option<string>("--evidence-dir") { Description = "Where captured evidence goes (files mode 0600, one directory per incident)", DefaultValueFactory = _ => "incident-evidence" };
        var done = new Option<bool>("--done") { Description = "With --step N: tick a manual step (or guidance you carried out yourself) as done; sealed in the trail with your name" };
        var drainTimeout = new Option<double>("--drain-timeout") { Description = "node-compromise: seconds to keep retrying evictions a PodDisruptionBudget refuses", DefaultValueFactory = _ => 300 };
        var cluster = new ClusterOptions();
        var store = new AuditStoreOptions();
        var cmd = new Command("apply", "Carry out the incident's runbook through the Kubernetes API: each step as a server-side dry run first, then for real (asking before disruptive steps unless --yes); every step's outcome is sealed in the trail before the next, so a failed or interrupted apply resumes where it stopped.")
        {
            id, step, yes, dryRun, force, fromFile, evidenceDir, drainTimeout, done,
        };
        cluster.AddTo(cmd);
        store.AddTo(cmd);
        cmd.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(done))
            {
                return parse.GetValue(step) is { } manual
                    ? await TickAsync(store, parse, context, parse.GetValue(id)!, manual, ct).ConfigureAwait(false)
                    : await Usage(context, "--done needs --step N (the step you carried out)").ConfigureAwait(false);
            }

            var data = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var spec in parse.GetValue(fromFile) ?? [])
            {
                var eq = spec.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    await context.Error.WriteLineAsync($"error: --from-file '{spec}' is KEY=FILE").ConfigureAwait(false);
                    return ExitCodes.UsageOrInputError;
                }

                try
                {
                    data[spec[..eq]] = await File.ReadAllBytesAsync(Path.GetFullPath(spec[(eq + 1)..], context.WorkingDirectory), ct).ConfigureAwait(false);
                }
                catch (IOException e)
                {
                    await context.Error.WriteLineAsync($"error: --from-file {spec[..eq]}: {e.Message}").ConfigureAwait(false);
                    return ExitCodes.UsageOrInputError;
                }
            }

            if (await cluster.TryClientAsync(parse, context, "act on").ConfigureAwait(false) is not { } client)
            {
                return ExitCodes.UsageOrInputError;
            }

            using (client)
            {
                var options = new ExecutorOptions
                {
                    EvidenceDirectory = Path.GetFullPath(parse.GetValue(evidenceDir)!, context.WorkingDirectory),
                    Force = parse.GetValue(force),
                    SecretData = data.Count > 0 ? data : null,
                    DrainTimeout = TimeSpan.FromSeconds(parse.GetValue(drainTimeout)),
                    Time = context.Time,
                };
                return await RunAsync(store, parse, context, parse.GetValue(id)!, new KubernetesClusterClient(client), options, parse.GetValue(step), parse.GetValue(dryRun), parse.GetValue(yes), ct).ConfigureAwait(false);
            }
        });
        return cmd;
    }

    private static async Task<int> Usage(CliContext context, string message)
    {
        await context.Error.WriteLineAsync($"error: {message}").ConfigureAwait(false);
        return ExitCodes.UsageOrInputError;
    }

    /// <summary>Records that a person carried out step <paramref name="number"/> (the provider's instance terminated, say).</summary>
    private static async Task<int> TickAsync(AuditStoreOptions store, ParseResult parse, CliContext context, string id, int number, CancellationToken ct)
    {
        try
        {
            store.RequireExisting(parse, context);
            await using var session = await store.OpenLogAsync(parse, context, ct).ConfigureAwait(false);
            var journal = new IncidentJournal(session.Store, session.Log);
            if (await journal.FindAsync(id, ct).ConfigureAwait(false) is not { Status: not IncidentStatus.Closed } incident)
            {
                return await Usage(context, $"no open incident {id} in the trail").ConfigureAwait(false);
            }

            if (RunbookPlans.For(incident).FirstOrDefault(s => s.Number == number) is not { } s)
            {
                return await Usage(context, $"the runbook has no step {number} (skjold incident plan {id} lists them)").ConfigureAwait(false);
            }

            var actor = IncidentCommand.Actor(context);
            await journal.RecordAsync(IncidentEvents.Action, $"incident {id}: step {number} done by hand", IncidentEvents.Changed(id, actor, new Dictionary<string, string>
            {
                ["step"] = number.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["title"] = s.Title,
                ["mode"] = StepOutcome.Applied,
                ["summary"] = $"done by hand by {actor}",
                ["evidence"] = "",
            }), ct).ConfigureAwait(false);
            context.Out.WriteLine($"{number}. {s.Title}: done (by {actor})");
            return ExitCodes.Ok;
        }
        catch (AuditStoreException ex)
        {
            return await Usage(context, ex.Message).ConfigureAwait(false);
        }
    }

    internal static async Task<int> RunAsync(AuditStoreOptions store, ParseResult parse, CliContext context, string id, IClusterClient cluster, ExecutorOptions options, int? only, bool dryRun, bool yes, CancellationToken ct)
    {
        try
        {
            store.RequireExisting(parse, context);
            await using var session = await store.OpenLogAsync(parse, context, ct).ConfigureAwait(false);
            var journal = new IncidentJournal(session.Store, session.Log);
            if (await journal.FindAsync(id, ct).ConfigureAwait(false) is not { } incident)
            {
                await context.Error.WriteLineAsync($"error: no incident {id} in the trail (skjold incident list shows them)").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            if (incident.Status == IncidentStatus.Closed)
            {
                await context.Error.WriteLineAsync($"error: {id} is closed").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            if (incident.Targets[0].Namespace is { } ns && options.ProtectedNamespaces.Contains(ns) && !options.Force)
            {
                await context.Error.WriteLineAsync($"error: {ns} is a protected namespace (the control plane's or Skjold's own): give --force to act in it").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            var steps = RunbookPlans.For(incident);
            var apply = new IncidentApply(journal, new RunbookExecutor(cluster, options));
            bool Confirm(RunbookStep s)
            {
                if (yes)
                {
                    return true;
                }

                context.Error.Write($"Step {s.Number} ({s.Title}) is disruptive. Type yes to carry it out: ");
                using var reader = new StreamReader(context.Stdin());
                return reader.ReadLine()?.Trim() == "yes";
            }

            var outcomes = await apply.ApplyAsync(incident, steps, only, dryRun, Confirm, IncidentCommand.Actor(context),
                o => context.Out.WriteLine($"{o.Step}. {o.Title}: {o.Mode}: {o.Summary}"), ct).ConfigureAwait(false);
            return outcomes.Any(o => o.Mode is StepOutcome.Failed or StepOutcome.Waiting) ? ExitCodes.Findings : ExitCodes.Ok;
        }
        catch (AuditStoreException ex)
        {
            await context.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.UsageOrInputError;
        }
    }
}
