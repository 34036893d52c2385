namespace Skjold.Incidents;

/// <summary>How NIS2 applies to the organisation (Art. 3): an essential or important entity, or neither.</summary>
public enum Nis2Entity
{
    None,
    Essential,
    Important,
}

/// <summary>One reporting deadline: what is due, to whom, when, and how it stands at a given time.</summary>
public sealed record Deadline(string Regime, string What, DateTimeOffset Due, bool Applies, string Why)
{
    public TimeSpan Left(DateTimeOffset now) => Due - now;

    public bool Overdue(DateTimeOffset now) => Applies && now > Due;
}

/// <summary>
/// The clocks regulators run from the time of awareness: GDPR Art. 33(1), notification of a personal data
/// breach to the supervisory authority (Datatilsynet) within 72 hours, unless it is unlikely to result in a
/// risk (which must then be documented, Art. 33(5)); NIS2 Art. 23(4) for essential and important entities,
/// an early warning within 24 hours, an incident notification within 72 hours and a final report within one
/// month of the notification. A closed incident keeps its deadlines: overdue is about what was due then.
/// </summary>
public static class ReportingClocks
{
    public static IReadOnlyList<Deadline> For(Incident incident, Nis2Entity entity)
    {
        var aware = incident.AwareAt;
        var gdprApplies = incident.PersonalData.Involved != false;
        var gdprWhy = incident.PersonalData.Involved switch
        {
            true => "personal data is involved",
            null => "whether personal data is involved is not yet assessed (assume it is until documented otherwise)",
            false => "no personal data involved: " + (incident.PersonalData.Reasoning ?? "reasoning not recorded (Art. 33(5) requires it)"),
        };
        var list = new List<Deadline>
        {
            new("GDPR Art. 33", "notify the supervisory authority (Datatilsynet)", aware.AddHours(72), gdprApplies, gdprWhy),
        };
        var nis2 = entity != Nis2Entity.None;
        var why = nis2 ? $"the organisation is configured as an {entity.ToString().ToLowerInvariant()} entity" : "the organisation is not configured as a NIS2 entity";
        list.Add(new("NIS2 Art. 23(4)(a)", "early warning to the CSIRT or competent authority", aware.AddHours(24), nis2, why));
        list.Add(new("NIS2 Art. 23(4)(b)", "incident notification", aware.AddHours(72), nis2, why));
        list.Add(new("NIS2 Art. 23(4)(d)", "final report (one month after the notification)", aware.AddHours(72).AddMonths(1), nis2, why));
        return list;
    }

    /// <summary>"12 h 5 min left" or "overdue by 3 h"; a deadline that does not apply says so.</summary>
    public static string Describe(Deadline d, DateTimeOffset now)
    {
        if (!d.Applies)
        {
            return "not applicable";
        }

        var left = d.Left(now);
        var span = left.Duration();
        var text = span.TotalHours >= 48 ? $"{span.TotalDays:0.#} days" : span.TotalHours >= 1 ? $"{(int)span.TotalHours} h {span.Minutes} min" : $"{span.Minutes} min";
        return left >= TimeSpan.Zero ? $"{text} left" : $"overdue by {text}";
    }
}
