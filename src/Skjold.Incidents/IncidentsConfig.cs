using Skjold.Engine.Policy;

namespace Skjold.Incidents;

/// <summary>The <c>incidents:</c> section of skjold.yaml: who the organisation is, its contact point, and whether NIS2 applies.</summary>
public static class IncidentsConfig
{
    /// <summary>The rules whose alerts open incidents (incidents.autoOpen), none without the section.</summary>
    public static IReadOnlyList<AutoOpenRule> ParseAutoOpen(string yaml, string file, string baseDirectory)
    {
        _ = baseDirectory;
        if (YamlMap.Section(yaml, file, "incidents", Keys) is not { } map)
        {
            return [];
        }

        var rules = new List<AutoOpenRule>();
        foreach (var r in map.Maps("autoOpen", ["rule", "type"], "rule"))
        {
            var rule = r.String("rule");
            var type = r.String("type");
            if (rule is null)
            {
                r.Fail("rule", "name the detection rule whose alerts open an incident");
            }

            if (!IncidentTypes.TryParse(type, out var t))
            {
                r.Fail("type", $"'{type}' is not pod-compromise, secret-exposed, unauthorized-access or node-compromise");
            }
            else if (rule is not null)
            {
                rules.Add(new AutoOpenRule(rule, t));
            }
        }

        map.ThrowIfErrors();
        return rules;
    }

    private static readonly string[] Keys = ["organisation", "contact", "nis2", "autoOpen"];

    public static Organisation Parse(string yaml, string file, string baseDirectory)
    {
        _ = baseDirectory;
        if (YamlMap.Section(yaml, file, "incidents", Keys) is not { } map)
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
