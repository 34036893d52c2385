using Skjold.Engine.Checks;
using Skjold.Engine.Policy;

namespace Skjold.Cli;

/// <summary>Finds and reads skjold.yaml: the --config file, else skjold.yaml or .skjold.yaml in the working directory.</summary>
internal static class ConfigLoader
{
    public static readonly string[] DefaultNames = ["skjold.yaml", ".skjold.yaml"];

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
