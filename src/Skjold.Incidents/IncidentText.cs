namespace Skjold.Incidents;

/// <summary>The plain-text views of incidents (<c>incident list</c> and <c>incident show</c>), the same in every host.</summary>
public static class IncidentText
{
    /// <summary>One line per incident with its GDPR and NIS2 deadlines, then a count of those overdue.</summary>
    public static void WriteList(TextWriter o, IReadOnlyList<Incident> incidents, Nis2Entity entity, DateTimeOffset now)
    {
        o.WriteLine($"{"ID",-22} {"TYPE",-20} {"TARGET",-34} {"STATUS",-10} {"GDPR 72 h",-22} NIS2 24 h");
        foreach (var i in incidents)
        {
            var clocks = ReportingClocks.For(i, entity);
            o.WriteLine($"{i.Id,-22} {IncidentTypes.Name(i.Type),-20} {string.Join(", ", i.Targets),-34} {Status(i),-10} {ReportingClocks.Describe(clocks[0], now),-22} {ReportingClocks.Describe(clocks[1], now)}");
        }

        o.WriteLine($"{incidents.Count} incidents; {incidents.Count(i => ReportingClocks.For(i, entity).Any(d => d.Overdue(now)))} with an overdue deadline.");
    }

    /// <summary>An incident's facts, its deadlines, and its timeline with the trail leaf of each entry.</summary>
    public static void WriteShow(TextWriter o, Incident i, Nis2Entity entity, DateTimeOffset now)
    {
        o.WriteLine($"{i.Id}: {IncidentTypes.Name(i.Type)} {string.Join(", ", i.Targets)}");
        o.WriteLine($"  status {Status(i)}, severity {i.Severity}, owner {i.Owner}, aware {i.AwareAt:yyyy-MM-dd HH:mm} UTC");
        o.WriteLine($"  personal data: {i.PersonalData.Involved switch { true => "yes", false => "no", _ => "not assessed" }}{(i.PersonalData.Reasoning is { } r ? $" ({r})" : "")}");
        if (i.Resolution is { } res)
        {
            o.WriteLine($"  resolution: {res}");
        }

        o.WriteLine("Deadlines:");
        foreach (var d in ReportingClocks.For(i, entity))
        {
            o.WriteLine($"  {d.Regime,-20} {d.What,-52} {d.Due:yyyy-MM-dd HH:mm} UTC  {ReportingClocks.Describe(d, now)}");
        }

        o.WriteLine("Timeline:");
        foreach (var e in i.Timeline)
        {
            o.WriteLine($"  {e.At:yyyy-MM-dd HH:mm:ss} leaf {e.Leaf,-6} {e.Actor}: {e.Text}");
        }
    }

    private static string Status(Incident i) => i.Status.ToString().ToLowerInvariant();
}
