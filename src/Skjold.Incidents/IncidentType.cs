namespace Skjold.Incidents;

/// <summary>The four incidents the runbooks cover.</summary>
public enum IncidentType
{
    PodCompromise,
    SecretExposed,
    UnauthorizedAccess,
    NodeCompromise,
}

/// <summary>Names on the command line and in the trail.</summary>
public static class IncidentTypes
{
    public static string Name(IncidentType t) => t switch
    {
        IncidentType.PodCompromise => "pod-compromise",
        IncidentType.SecretExposed => "secret-exposed",
        IncidentType.UnauthorizedAccess => "unauthorized-access",
        _ => "node-compromise",
    };

    public static bool TryParse(string? s, out IncidentType type)
    {
        foreach (var t in Enum.GetValues<IncidentType>())
        {
            if (Name(t) == s)
            {
                type = t;
                return true;
            }
        }

        type = default;
        return false;
    }
}
