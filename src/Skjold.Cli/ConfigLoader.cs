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
    public static ScanPolicy Load(string? explicitPath, string workingDirectory)
    {
        var path = explicitPath is null ? null : Path.GetFullPath(explicitPath, workingDirectory);
        if (path is null)
        {
            foreach (var name in DefaultNames)
            {
                var candidate = Path.Combine(workingDirectory, name);
                if (File.Exists(candidate))
                {
                    path = candidate;
                    break;
                }
            }
        }

        if (path is null)
        {
            return ScanPolicy.Default;
        }

        if (!File.Exists(path))
        {
            throw new ConfigException($"{explicitPath}: config file not found");
        }

        var display = Path.GetRelativePath(workingDirectory, Path.GetFullPath(path, workingDirectory));
        return ConfigParser.Parse(File.ReadAllText(path), display.StartsWith("..", StringComparison.Ordinal) ? path : display, CheckCatalog.Default);
    }
}
