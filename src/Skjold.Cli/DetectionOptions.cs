using System.CommandLine;
using Microsoft.Extensions.Logging;
using Skjold.Audit;
using Skjold.Detection.Falco;
using Skjold.Server.Detection;

namespace Skjold.Cli;

/// <summary>--detect-rules: Falco k8s_audit rules run on every batch the audit log seals, alerts sealed into the trail.</summary>
internal sealed class DetectionOptions
{
    public Option<string[]> Rules { get; } = new("--detect-rules")
    {
        Description = "Falco rule files (k8s_audit source) to run on every sealed batch; each alert is sealed into the trail as a detection-alert event",
        AllowMultipleArgumentsPerToken = true,
    };

    public void AddTo(Command c) => c.Options.Add(Rules);

    /// <summary>The rules, or null when none were given; false after a one-line error.</summary>
    public bool TryLoad(ParseResult parse, CliContext context, out FalcoRuleSet? rules)
    {
        rules = null;
        var files = parse.GetValue(Rules) ?? [];
        if (files.Length == 0)
        {
            return true;
        }

        if (RulesCommand.Load(files, context) is not { } set)
        {
            return false;
        }

        rules = set;
        return true;
    }

    /// <summary>Subscribes a detector to the log (null without rules); dispose it before the log.</summary>
    public static IAsyncDisposable? Attach(AuditLog log, FalcoRuleSet? rules, ILogger logger, Action<FalcoAlert, long>? onAlert = null) =>
        rules is null ? null : log.Subscribe(new AuditDetector(log, rules, logger, onAlert));
}
