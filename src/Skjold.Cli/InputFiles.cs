using Skjold.Engine.Model;
using Skjold.Kubernetes.Loading;

namespace Skjold.Cli;

/// <summary>Snapshots and manifests named on the command line, as the cluster-level commands read them.</summary>
internal static class InputFiles
{
    /// <summary>Snapshots of large clusters are tens of MiB; the scan's per-file limit is for CI input, not these.</summary>
    private const long MaxSnapshotBytes = 4L << 30;

    /// <summary>
    /// Loads PATHs (relative to the working directory; "-" is stdin), writes every diagnostic to
    /// the error stream, and returns the resources, or null when any input could not be read.
    /// </summary>
    public static IReadOnlyList<Resource>? Load(IEnumerable<string> paths, CliContext context, string defaultNamespace = "default")
    {
        var loader = new ManifestLoader(new LoaderOptions { MaxFileBytes = MaxSnapshotBytes, DefaultNamespace = defaultNamespace });
        var loaded = loader.LoadPaths(paths.Select(p => p == ManifestLoader.StdinName ? p : Path.GetFullPath(p, context.WorkingDirectory)), context.Stdin);
        foreach (var d in loaded.Diagnostics)
        {
            context.Error.WriteLine($"{(d.Level == DiagnosticLevel.Error ? "error" : "warning")}: {d.Message}");
        }

        return loaded.Diagnostics.Any(d => d.Level == DiagnosticLevel.Error) ? null : loaded.Resources;
    }
}
