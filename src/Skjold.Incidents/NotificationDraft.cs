using System.Globalization;
using System.Text;

namespace Skjold.Incidents;

/// <summary>Who the notification is for and who is writing it.</summary>
public sealed record Organisation(string Name, string Contact, Nis2Entity Nis2);

/// <summary>
/// The draft of a personal data breach notification with the content GDPR Art. 33(3) asks for: the nature
/// of the breach (categories and approximate numbers of data subjects and records), the contact point, the
/// likely consequences, and the measures taken or proposed; filled from the incident and its timeline, and
/// marked <c>[TO COMPLETE]</c> wherever a person must add what Skjold cannot know. Norwegian (nb) or English.
/// </summary>
public static class NotificationDraft
{
    public const string ToComplete = "[TO COMPLETE]";

    public static string Write(Incident incident, Organisation org, string authority, string lang, DateTimeOffset now)
    {
        var nb = lang == "nb";
        var gdpr = ReportingClocks.For(incident, org.Nis2)[0];
        var sb = new StringBuilder();
        string T(string en, string no) => nb ? no : en;
        sb.AppendLine(CultureInfo.InvariantCulture, $"# {T("Personal data breach notification", "Melding om brudd på personopplysningssikkerheten")} ({authority})");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"{T("Draft written by Skjold", "Utkast skrevet av Skjold")} {now:yyyy-MM-dd HH:mm} UTC. {T("Incident", "Hendelse")} {incident.Id}.");
        sb.AppendLine(CultureInfo.InvariantCulture, $"{T("Deadline (GDPR Art. 33(1), 72 hours from awareness)", "Frist (GDPR art. 33 nr. 1, 72 timer fra oppdagelse)")}: {gdpr.Due:yyyy-MM-dd HH:mm} UTC ({ReportingClocks.Describe(gdpr, now)}).");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"## 1. {T("Controller and contact point (Art. 33(3)(b))", "Behandlingsansvarlig og kontaktpunkt (art. 33 nr. 3 bokstav b)")}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- {T("Organisation", "Virksomhet")}: {Or(org.Name)}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- {T("Contact point (data protection officer)", "Kontaktpunkt (personvernombud)")}: {Or(org.Contact)}");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"## 2. {T("Nature of the breach (Art. 33(3)(a))", "Bruddets art (art. 33 nr. 3 bokstav a)")}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- {T("What happened", "Hva skjedde")}: {Describe(incident, nb)}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- {T("Became aware", "Oppdaget")}: {incident.AwareAt:yyyy-MM-dd HH:mm} UTC");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- {T("Systems affected", "Berørte systemer")}: {string.Join(", ", incident.Targets)}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- {T("Personal data involved", "Personopplysninger berørt")}: {incident.PersonalData.Involved switch { true => T("yes", "ja"), false => T("no", "nei"), _ => T("not yet assessed", "ikke vurdert ennå") }}{(incident.PersonalData.Reasoning is { } r ? $" ({r})" : "")}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- {T("Categories and approximate number of data subjects", "Kategorier og omtrentlig antall registrerte")}: {ToComplete}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- {T("Categories and approximate number of personal data records", "Kategorier og omtrentlig antall registreringer")}: {ToComplete}");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"## 3. {T("Likely consequences (Art. 33(3)(c))", "Sannsynlige konsekvenser (art. 33 nr. 3 bokstav c)")}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- {Consequences(incident.Type, nb)}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- {T("Assessment for the data subjects", "Vurdering for de registrerte")}: {ToComplete}");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"## 4. {T("Measures taken or proposed (Art. 33(3)(d))", "Tiltak som er truffet eller foreslått (art. 33 nr. 3 bokstav d)")}");
        var measures = incident.Timeline.Where(e => e.Kind != IncidentEvents.Open).ToList();
        if (measures.Count == 0)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"- {ToComplete}");
        }

        foreach (var m in measures)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"- {m.At:yyyy-MM-dd HH:mm} UTC ({m.Actor}): {m.Text} ({T("sealed in the audit trail, leaf", "forseglet i revisjonssporet, løv")} {m.Leaf})");
        }

        sb.AppendLine(CultureInfo.InvariantCulture, $"- {T("Measures to mitigate possible adverse effects", "Tiltak for å redusere mulige skadevirkninger")}: {ToComplete}");
        if (DateTimeOffset.Compare(now, gdpr.Due) > 0)
        {
            sb.AppendLine();
            sb.AppendLine(CultureInfo.InvariantCulture, $"## {T("Reasons for the delay (Art. 33(1))", "Begrunnelse for forsinkelsen (art. 33 nr. 1)")}");
            sb.AppendLine(ToComplete);
        }

        return sb.ToString();
    }

    private static string Or(string s) => string.IsNullOrWhiteSpace(s) ? ToComplete : s;

    private static string Describe(Incident i, bool nb) => i.Type switch
    {
        IncidentType.PodCompromise => nb ? "mistanke om kompromittert pod (container) i Kubernetes-klyngen" : "suspected compromise of a pod (container) in the Kubernetes cluster",
        IncidentType.SecretExposed => nb ? "en hemmelighet (Secret) i klyngen kan ha blitt eksponert" : "a Secret in the cluster may have been exposed",
        IncidentType.UnauthorizedAccess => nb ? "uautorisert tilgang til Kubernetes-API-et" : "unauthorised access to the Kubernetes API",
        _ => nb ? "mistanke om kompromittert node i klyngen" : "suspected compromise of a cluster node",
    };

    private static string Consequences(IncidentType t, bool nb) => t switch
    {
        IncidentType.SecretExposed => nb ? "Den som har hemmeligheten, kan ha fått tilgang til systemene den gir tilgang til." : "Whoever holds the secret may have had access to the systems it unlocks.",
        IncidentType.UnauthorizedAccess => nb ? "Data og objekter som identiteten kunne lese eller endre, kan være berørt." : "Data and objects the identity could read or change may be affected.",
        _ => nb ? "Data som arbeidslasten behandlet, og hemmeligheter den hadde tilgang til, kan være berørt." : "Data the workload processed, and secrets it could reach, may be affected.",
    };
}
