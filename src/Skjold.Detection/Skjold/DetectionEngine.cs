using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Skjold.Detection.Falco;

namespace Skjold.Detection.Skjold;

/// <summary>
/// Everything that judges one audit event: Falco rule files (the user's, and Skjold's own shipped
/// file), Skjold's stateful rules, the rules switched off, and the exceptions of skjold.yaml (an
/// alert an unexpired exception covers is dropped; the count is kept). Not thread-safe: one
/// detector feeds it, in order.
/// </summary>
public sealed class DetectionEngine
{
    /// <summary>The name Skjold's shipped rule file is shown under.</summary>
    public const string BuiltinFile = "skjold:k8s_audit_rules.yaml";

    private readonly IReadOnlyList<StatefulRule> _stateful;
    private readonly DetectionSettings _settings;
    private long _excepted;

    public DetectionEngine(FalcoRuleSet rules, DetectionSettings? settings = null, Func<string, IReadOnlyDictionary<string, string>?>? namespaceLabels = null)
    {
        ArgumentNullException.ThrowIfNull(rules);
        Rules = rules;
        _settings = settings ?? new DetectionSettings { Builtin = false };
        var disabled = new HashSet<string>(_settings.Disabled, StringComparer.Ordinal);
        var unknown = disabled.Where(d => !rules.Rules.Any(r => r.Name == d)).ToList();
        List<StatefulRule> stateful = [];
        if (_settings.Builtin)
        {
            stateful =
            [
                new SecretsAcrossNamespacesRule(_settings.SecretsAcrossNamespaces),
                new ProbingRule(_settings.Probing),
                new NewBindingUsedRule(_settings.NewBindingUsedWithin),
                new ExecIntoProductionRule(_settings.ProductionNamespaces, _settings.ProductionLabels, namespaceLabels),
                new ServiceAccountFromOutsideRule(_settings.ClusterCidrs),
                new OutsideAllowedRangesRule(_settings.AllowedSourceRanges),
            ];
            unknown.RemoveAll(d => stateful.Any(s => s.Name == d));
        }

        foreach (var r in rules.Rules.Where(r => disabled.Contains(r.Name)))
        {
            r.Enabled = false;
        }

        _stateful = [.. stateful.Where(s => !disabled.Contains(s.Name))];
        Warnings = [.. unknown.Select(d => $"detection.disabled: no rule is named '{d}'")];
    }

    public FalcoRuleSet Rules { get; }

    public IReadOnlyList<StatefulRule> Stateful => _stateful;

    /// <summary>Problems that do not stop detection (an unknown rule in disabled:, expired exceptions).</summary>
    public IReadOnlyList<string> Warnings { get; private set; }

    /// <summary>Alerts dropped because an exception covered them.</summary>
    public long Excepted => Interlocked.Read(ref _excepted);

    /// <summary>Skjold's shipped rule file, with the lists of <paramref name="settings"/> applied.</summary>
    public static void LoadBuiltin(FalcoRuleSet rules, DetectionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(settings);
        rules.Load(BuiltinText(), BuiltinFile);
        var overrides = new StringBuilder();
        overrides.Append("- list: skjold_namespaces\n  items: [").Append(string.Join(", ", settings.SkjoldNamespaces.Select(Quote))).Append("]\n");
        rules.Load(overrides.ToString(), "skjold.yaml (detection.skjoldNamespaces)");
    }

    /// <summary>The text of Skjold's shipped rule file.</summary>
    public static string BuiltinText()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Skjold.Detection.skjold_k8s_audit_rules.yaml")
            ?? throw new InvalidOperationException("the shipped rule file is missing from the assembly");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>Every alert for the event, observed at <paramref name="now"/>, minus those an exception covers.</summary>
    public List<FalcoAlert> Evaluate(JsonElement audit, DateTimeOffset now)
    {
        var alerts = Rules.Evaluate(audit);
        AuditFacts? facts = null;
        if (_stateful.Count > 0)
        {
            facts = AuditFacts.From(audit);
            foreach (var rule in _stateful)
            {
                if (rule.Observe(facts, now) is { } a)
                {
                    alerts.Add(a);
                }
            }
        }

        if (alerts.Count > 0 && _settings.Exceptions.Count > 0)
        {
            var f = facts ?? AuditFacts.From(audit);
            var dropped = alerts.RemoveAll(a => Covered(a, f, now));
            Interlocked.Add(ref _excepted, dropped);
        }

        return alerts;
    }

    /// <summary>The time an event happened (stageTimestamp, else requestReceivedTimestamp), for hunting over stored events.</summary>
    public static DateTimeOffset? EventTime(JsonElement audit)
    {
        foreach (var name in new[] { "stageTimestamp", "requestReceivedTimestamp" })
        {
            if (audit.TryGetProperty(name, out var t) && t.ValueKind == JsonValueKind.String
                && DateTimeOffset.TryParse(t.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
            {
                return time;
            }
        }

        return null;
    }

    private bool Covered(FalcoAlert a, AuditFacts e, DateTimeOffset now)
    {
        foreach (var x in _settings.Exceptions)
        {
            if (x.Rule != a.Rule || (x.Expires is { } end && now >= end))
            {
                continue;
            }

            if ((x.Users.Count == 0 || Glob.Any(x.Users, e.User))
                && (x.Namespaces.Count == 0 || Glob.Any(x.Namespaces, e.Namespace))
                && (x.SourceRanges.Count == 0 || (e.SourceIp is { } ip && x.SourceRanges.Any(r => r.Contains(ip)))))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Exceptions that have expired at <paramref name="now"/> (reported at start, like scan exemptions).</summary>
    public IEnumerable<string> ExpiredExceptions(DateTimeOffset now) =>
        _settings.Exceptions.Where(x => x.Expires is { } end && now >= end).Select(x => $"{x.At}: the exception for '{x.Rule}' expired on {x.Expires:yyyy-MM-dd} and no longer applies ({x.Reason})");

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
