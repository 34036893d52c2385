using Skjold.Engine.Policy;

namespace Skjold.Incidents;

/// <summary>The <c>incidents:</c> section of skjold.yaml: who the organisation is, its contact point, and whether NIS2 applies.</summary>
public static class IncidentsConfig
{
    public static Organisation Parse(string yaml, string file, string baseDirectory)
    {
        _ = baseDirectory;
        if (YamlMap.Section(yaml, file, "incidents", ["organisation", "contact", "nis2"]) is not { } map)
        {
            return new Organisation("", "", Nis2Entity.None);
        }

        var nis2 = map.Enum("nis2", "none", "essential", "important") ?? "none";
        var org = new Organisation(map.String("organisation") ?? "", map.String("contact") ?? "",
            nis2 == "essential" ? Nis2Entity.Essential : nis2 == "important" ? Nis2Entity.Important : Nis2Entity.None);
        map.ThrowIfErrors();
        return org;
    }
}
