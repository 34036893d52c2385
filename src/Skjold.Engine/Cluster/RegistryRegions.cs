namespace Skjold.Engine.Cluster;

/// <summary>Where a registry serves from, as the residency checks judge it: a region from its host name, or a global public registry.</summary>
public static class RegistryRegions
{
    /// <summary>The region (null when the host does not tell), how to print it, whether it is in the EU/EEA, and whether the registry is served globally.</summary>
    public static (string? Region, string Description, bool? InEea, bool Global) Of(string host)
    {
        var region = ResidencyChecks.RegistryRegion(host);
        var global = region is null && Array.Exists(ResidencyChecks.GlobalRegistries, g => host == g || host.EndsWith("." + g, StringComparison.Ordinal));
        if (region is null)
        {
            return (null, global ? "global (public registry)" : "unknown", null, global);
        }

        return (region, ResidencyChecks.Describe(region), ResidencyChecks.Allowed(region, ["eea"]), false);
    }
}
