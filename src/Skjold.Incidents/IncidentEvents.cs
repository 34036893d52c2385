using System.Globalization;

namespace Skjold.Incidents;

/// <summary>
/// Incidents are event-sourced in the audit trail: every change is a sealed Skjold event (verb
/// <c>incident-open</c>, <c>incident-note</c>, <c>incident-update</c>, <c>incident-close</c>) whose annotations carry
/// the incident id and the fields that changed, so an incident's history is exactly as tamper-evident as
/// the trail, and its state is the fold of those events in log order.
/// </summary>
public static class IncidentEvents
{
    public const string Prefix = "skjold.io/";
    public const string Open = "incident-open";
    public const string Note = "incident-note";
    public const string Update = "incident-update";
    public const string Close = "incident-close";
    public const string Action = "incident-action";
    public static readonly string[] Verbs = [Open, Note, Update, Close, Action];

    /// <summary>One sealed change, as the store returns it: its leaf, time, verb and annotations.</summary>
    public sealed record Sealed(long Leaf, DateTimeOffset At, string Verb, IReadOnlyDictionary<string, string> Fields);

    /// <summary>The annotations of an incident-open event.</summary>
    public static Dictionary<string, string> Opened(string id, IncidentType type, IReadOnlyList<IncidentTarget> targets, string severity, DateTimeOffset awareAt, string owner, string actor, PersonalDataAssessment personal) => new(StringComparer.Ordinal)
    {
        [Prefix + "incident-id"] = id,
        [Prefix + "type"] = IncidentTypes.Name(type),
        [Prefix + "targets"] = string.Join(";", targets.Select(t => $"{t.Kind}|{t.Namespace}|{t.Name}")),
        [Prefix + "severity"] = severity,
        [Prefix + "aware-at"] = awareAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
        [Prefix + "owner"] = owner,
        [Prefix + "actor"] = actor,
        [Prefix + "personal-data"] = personal.Involved switch { true => "yes", false => "no", _ => "unknown" },
        [Prefix + "personal-data-reasoning"] = personal.Reasoning ?? "",
    };

    public static Dictionary<string, string> Changed(string id, string actor, IReadOnlyDictionary<string, string> fields)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal) { [Prefix + "incident-id"] = id, [Prefix + "actor"] = actor };
        foreach (var (k, v) in fields)
        {
            d[Prefix + k] = v;
        }

        return d;
    }

    /// <summary>Folds one incident's events (in log order) into its state; null when there is no open event.</summary>
    public static Incident? Fold(IEnumerable<Sealed> events)
    {
        Incident? incident = null;
        var timeline = new List<IncidentEntry>();
        var applied = new HashSet<int>();
        foreach (var e in events)
        {
            string F(string k) => e.Fields.TryGetValue(Prefix + k, out var v) ? v : "";
            var actor = F("actor");
            switch (e.Verb)
            {
                case Open when incident is null:
                    IncidentTypes.TryParse(F("type"), out var type);
                    var targets = F("targets").Split(';', StringSplitOptions.RemoveEmptyEntries).Select(t =>
                    {
                        var p = t.Split('|');
                        return new IncidentTarget(p[0], p.Length > 2 && p[1].Length > 0 ? p[1] : null, p.Length > 2 ? p[2] : p[^1]);
                    }).ToList();
                    incident = new Incident(F("incident-id"), type, targets, F("severity"),
                        DateTimeOffset.Parse(F("aware-at"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal), F("owner"), IncidentStatus.Open,
                        new PersonalDataAssessment(F("personal-data") switch { "yes" => true, "no" => false, _ => null }, NullIfEmpty(F("personal-data-reasoning"))), null, timeline) { Drill = F("drill") == "yes" };
                    timeline.Add(new IncidentEntry(e.Leaf, e.At, actor, Open, $"opened: {IncidentTypes.Name(type)} {string.Join(", ", targets)} (severity {F("severity")}, owner {F("owner")}){(F("drill") == "yes" ? " (drill)" : "")}"));
                    break;
                case Note when incident is not null:
                    timeline.Add(new IncidentEntry(e.Leaf, e.At, actor, Note, F("note")));
                    break;
                case Update when incident is not null:
                    var changes = new List<string>();
                    if (F("status") is { Length: > 0 } status && Enum.TryParse<IncidentStatus>(status, true, out var st))
                    {
                        incident = incident with { Status = st };
                        changes.Add("status " + status);
                    }

                    if (F("owner") is { Length: > 0 } owner)
                    {
                        incident = incident with { Owner = owner };
                        changes.Add("owner " + owner);
                    }

                    if (F("severity") is { Length: > 0 } sev)
                    {
                        incident = incident with { Severity = sev };
                        changes.Add("severity " + sev);
                    }

                    if (F("personal-data") is { Length: > 0 } pd)
                    {
                        incident = incident with { PersonalData = new PersonalDataAssessment(pd switch { "yes" => true, "no" => false, _ => null }, NullIfEmpty(F("personal-data-reasoning"))) };
                        changes.Add($"personal data {pd}: {F("personal-data-reasoning")}");
                    }

                    timeline.Add(new IncidentEntry(e.Leaf, e.At, actor, Update, string.Join("; ", changes)));
                    break;
                case Action when incident is not null:
                    var step = int.TryParse(F("step"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
                    if (F("mode") == StepOutcome.Applied)
                    {
                        applied.Add(step);
                    }

                    timeline.Add(new IncidentEntry(e.Leaf, e.At, actor, Action, $"step {step} ({F("title")}): {F("mode")}: {F("summary")}{(F("evidence") is { Length: > 0 } ev ? " [evidence " + ev + "]" : "")}"));
                    break;
                case Close when incident is not null:
                    incident = incident with { Status = IncidentStatus.Closed, Resolution = F("resolution") };
                    timeline.Add(new IncidentEntry(e.Leaf, e.At, actor, Close, "closed: " + F("resolution")));
                    break;
            }
        }

        return incident is null ? null : incident with { Timeline = timeline, AppliedSteps = applied };
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;
}
