using System.CommandLine;
using Microsoft.Extensions.Logging;
using Skjold.Alerts.Configuration;
using Skjold.Audit;
using Skjold.Detection.Skjold;
using Skjold.Server.Detection;

namespace Skjold.Cli;

/// <summary>
/// Detection on a receiving host: Falco k8s_audit rule files run on every batch the audit log seals
/// (alerts sealed into the trail), and the <c>outputs:</c> of skjold.yaml that alerts are forwarded to.
/// </summary>
internal sealed class DetectionOptions(string rulesFlag, bool withConfig)
{
    public Option<string[]> Rules { get; } = new(rulesFlag)
    {
        Description = "Falco rule files (k8s_audit source) to run on every sealed batch; each alert is sealed into the trail as a detection-alert event and forwarded to the outputs: of skjold.yaml",
        AllowMultipleArgumentsPerToken = true,
    };

    /// <summary>--config, for hosts that do not have one already.</summary>
    public Option<string?>? Config { get; } = withConfig ? new("--config", "-c") { Description = "Configuration file (skjold.yaml) whose outputs: receive the alerts (default: ./skjold.yaml when present)" } : null;

    /// <summary>--namespaces-file, for hosts without a namespace cache of their own (serve shares its admission cache).</summary>
    public Option<string?>? NamespacesFile { get; } = withConfig ? NamespacesFileOption() : null;

    public static Option<string?> NamespacesFileOption() => new("--namespaces-file")
    {
        Description = "Namespace labels for detection rules (exec into namespaces labelled as production, detection.productionLabels): a snapshot or a list of Namespace objects",
    };

    public Option<string?> FalcoToken { get; } = new("--falco-token-file")
    {
        Description = "Also accept Falco's runtime alerts (its http_output) at POST /falco from holders of the bearer token in this file; each is sealed into the trail and forwarded",
    };

    public void AddTo(Command c)
    {
        c.Options.Add(Rules);
        c.Options.Add(FalcoToken);
        if (Config is not null)
        {
            c.Options.Add(Config);
        }

        if (NamespacesFile is not null)
        {
            c.Options.Add(NamespacesFile);
        }
    }

    /// <summary>
    /// The rules (null when none were asked for: no rule files and no detection: section in the
    /// configuration) and the outputs; false after one-line errors.
    /// </summary>
    public bool TryLoad(ParseResult parse, CliContext context, string? configPath, out DetectionEngine? rules, out IReadOnlyList<OutputDefinition> outputs, NamespaceLabelSource? labels = null)
    {
        rules = null;
        outputs = [];
        if (labels is null && NamespacesFile is not null)
        {
            try
            {
                labels = NamespaceLabelSource.FromFile(parse.GetValue(NamespacesFile), context);
            }
            catch (InvalidOperationException ex)
            {
                context.Error.WriteLine($"error: --namespaces-file: {ex.Message}");
                return false;
            }
        }

        var config = Config is null ? configPath : parse.GetValue(Config);
        if (!ConfigLoader.TryLoadAutoOpen(config, context.WorkingDirectory, context.Error, out var autoOpen))
        {
            return false;
        }

        AutoOpen = autoOpen.Count > 0 ? new Skjold.Incidents.AutoOpen(autoOpen) : null;
        if (!ConfigLoader.TryLoadIncidents(config, context.WorkingDirectory, context.Error, out var organisation))
        {
            return false;
        }

        Nis2 = organisation.Nis2;
        return ConfigLoader.TryLoadOutputs(config, context.WorkingDirectory, context.Error, out outputs)
            && RulesCommand.TryLoadEngine(parse.GetValue(Rules) ?? [], builtin: false, config, context, out rules, labels is null ? null : labels.Get);
    }

    /// <summary>The first detection flag given (rules or the Falco token), for hosts where detection needs a trail that is not configured.</summary>
    public string? Requested(ParseResult parse) =>
        (parse.GetValue(Rules) ?? []).Length > 0 ? Rules.Name : parse.GetValue(FalcoToken) is not null ? FalcoToken.Name : null;

    /// <summary>The /falco settings (null without --falco-token-file); throws IOException for an unreadable file.</summary>
    public Skjold.Server.Detection.FalcoReceiverOptions? Falco(ParseResult parse, CliContext context) =>
        parse.GetValue(FalcoToken) is { } file
            ? new Skjold.Server.Detection.FalcoReceiverOptions { Token = File.ReadAllText(Path.GetFullPath(file, context.WorkingDirectory)).Trim() }
            : null;

    /// <summary>Starts forwarding and subscribes the detector; dispose the pipeline after the host and before the log.</summary>
    public static Task<DetectionPipeline> StartAsync(AuditLog log, AuditStoreLocation location, DetectionEngine? rules, IReadOnlyList<OutputDefinition> outputs,
        ILoggerFactory loggers, CliContext context, CancellationToken ct, Action<Skjold.Alerts.Alert>? onAlert = null, Skjold.Incidents.AutoOpen? autoOpen = null) =>
        DetectionPipeline.StartAsync(log, location, rules, outputs, loggers, context.Time, onAlert: onAlert, cancellationToken: ct, autoOpen: autoOpen);

    /// <summary>The incidents.autoOpen rules of the configuration (loaded by <see cref="TryLoad"/>), or null when there are none.</summary>
    public Skjold.Incidents.AutoOpen? AutoOpen { get; private set; }

    /// <summary>incidents.nis2 of the configuration: which deadlines the incident clock watches.</summary>
    public Skjold.Incidents.Nis2Entity Nis2 { get; private set; }

    /// <summary>The incident clock for a host with a trail: deadlines on /metrics, reminders through the outputs.</summary>
    public Skjold.Server.Incidents.IncidentClockWatcher Clock(Skjold.Audit.Storage.IAuditStore store, DetectionPipeline pipeline, CliContext context) =>
        new(store, Nis2, pipeline.ForwardAsync, context.Time);
}
