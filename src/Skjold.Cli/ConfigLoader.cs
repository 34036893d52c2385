using Skjold.Engine.Checks;
using Skjold.Engine.Policy;

namespace Skjold.Cli;

/// <summary>Finds and reads skjold.yaml: the --config file, else skjold.yaml or .skjold.yaml in the working directory.</summary>
internal static class ConfigLoader
{
    public static readonly string[] DefaultNames = ["skjold.yaml", ".skjold.yaml"];

    /// <summary>Loads the policy; on an invalid configuration writes the error (file, line, key) and returns false.</summary>
    public static bool TryLoad(string? explicitPath, string workingDirectory, TextWriter error, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ScanPolicy? policy)
    {
        try
        {
            policy = Load(explicitPath, workingDirectory);
            return true;
        }
        catch (ConfigException ex)
        {
            // Every problem of the file, one line each, so that one run shows all there is to fix.
            foreach (var problem in ex.Errors)
            {
                error.WriteLine($"error: invalid configuration: {problem.Message}");
            }

            policy = null;
            return false;
        }
    }

    /// <summary>Returns the policy, or throws <see cref="ConfigException"/> with file and line.</summary>
    public static ScanPolicy Load(string? explicitPath, string workingDirectory) =>
        Locate(explicitPath, workingDirectory) is { } path
            ? ConfigParser.Parse(File.ReadAllText(path), Display(path, workingDirectory), CheckCatalog.Default)
            : ScanPolicy.Default;

    /// <summary>The configuration file in use: --config (which must exist), else skjold.yaml or .skjold.yaml here, else none.</summary>
    public static string? Locate(string? explicitPath, string workingDirectory)
    {
        if (explicitPath is not null)
        {
            var path = Path.GetFullPath(explicitPath, workingDirectory);
            return File.Exists(path) ? path : throw new ConfigException($"{explicitPath}: config file not found");
        }

        return DefaultNames.Select(n => Path.Combine(workingDirectory, n)).FirstOrDefault(File.Exists);
    }

    /// <summary>How a config file is named in messages: relative to the working directory when inside it.</summary>
    public static string Display(string path, string workingDirectory)
    {
        var display = Path.GetRelativePath(workingDirectory, path);
        return display.StartsWith("..", StringComparison.Ordinal) ? path : display;
    }

    /// <summary>The alert outputs of the configuration (none without a file or an outputs: section); false after the errors are written.</summary>
    public static bool TryLoadOutputs(string? explicitPath, string workingDirectory, TextWriter error, out IReadOnlyList<Skjold.Alerts.Configuration.OutputDefinition> outputs) =>
        TryLoadSection(explicitPath, workingDirectory, error, Skjold.Alerts.Configuration.OutputsConfig.Parse, [], out outputs);

    /// <summary>The detection: section of the configuration (null without a file or the section); false after the errors are written.</summary>
    public static bool TryLoadDetection(string? explicitPath, string workingDirectory, TextWriter error, out Skjold.Detection.Skjold.DetectionSettings? settings) =>
        TryLoadSection(explicitPath, workingDirectory, error, (yaml, file, _) => Skjold.Detection.Skjold.DetectionConfig.Parse(yaml, file), null, out settings);

    /// <summary>The supplyChain: section (no rules without a file or the section); false after the errors are written.</summary>
    public static bool TryLoadSupplyChain(string? explicitPath, string workingDirectory, TextWriter error, out Skjold.SupplyChain.Policy.SupplyChainSettings settings) =>
        TryLoadSection(explicitPath, workingDirectory, error, Skjold.SupplyChain.Policy.SupplyChainConfig.Parse, Skjold.SupplyChain.Policy.SupplyChainSettings.None, out settings);

    /// <summary>The incidents: section (organisation, contact point, NIS2 entity); false after the errors are written.</summary>
    public static bool TryLoadIncidents(string? explicitPath, string workingDirectory, TextWriter error, out Skjold.Incidents.Organisation organisation) =>
        TryLoadSection(explicitPath, workingDirectory, error, Skjold.Incidents.IncidentsConfig.Parse, new Skjold.Incidents.Organisation("", "", Skjold.Incidents.Nis2Entity.None), out organisation);

    /// <summary>The incidents.autoOpen rules; false after the errors are written.</summary>
    public static bool TryLoadAutoOpen(string? explicitPath, string workingDirectory, TextWriter error, out IReadOnlyList<Skjold.Incidents.AutoOpenRule> rules) =>
        TryLoadSection(explicitPath, workingDirectory, error, Skjold.Incidents.IncidentsConfig.ParseAutoOpen, [], out rules);

    /// <summary>Reads one section of the configuration file in use with its own parser (YAML text, display name, the file's directory).</summary>
    private static bool TryLoadSection<T>(string? explicitPath, string workingDirectory, TextWriter error, Func<string, string, string, T> parse, T none, out T value)
    {
        value = none;
        try
        {
            if (Locate(explicitPath, workingDirectory) is { } path)
            {
                value = parse(File.ReadAllText(path), Display(path, workingDirectory), Path.GetDirectoryName(path)!);
            }

            return true;
        }
        catch (ConfigException ex)
        {
            foreach (var problem in ex.Errors)
            {
                error.WriteLine($"error: invalid configuration: {problem.Message}");
            }

            return false;
        }
    }
}
