using Skjold.Engine.Model;
using Skjold.Kubernetes.Loading;

namespace Skjold.Cli;

/// <summary>What the cluster-level commands read: the resources, and whether some input could not be read.</summary>
internal sealed record LoadedInput(IReadOnlyList<Resource> Resources, bool Incomplete);

/// <summary>Snapshots and manifests named on the command line, as the cluster-level commands read them.</summary>
internal static class InputFiles
{
    /// <summary>Snapshots of large clusters are tens of MiB; the scan's per-file limit is for CI input, not these.</summary>
    private const long MaxSnapshotBytes = 4L << 30;

    /// <summary>
    /// Loads PATHs (relative to the working directory; "-" is stdin) and writes every diagnostic to
    /// the error stream. Documents that cannot be read are reported and skipped; the rest is used,
    /// and the result says it is incomplete (the command then exits 2 after its answer). Null only
    /// when nothing at all was read and that was not allowed: no Kubernetes object in the input is
    /// an error unless <paramref name="allowEmpty"/>, so a broken pipeline does not pass.
    /// </summary>
    /// <summary>Each input problem as one "error: ..." or "warning: ..." line.</summary>
    public static void WriteDiagnostics(TextWriter error, IEnumerable<Diagnostic> diagnostics)
    {
        foreach (var d in diagnostics)
        {
            error.WriteLine($"{(d.Level == DiagnosticLevel.Error ? "error" : "warning")}: {d.Message}");
        }
    }

    public static LoadedInput? Load(IEnumerable<string> paths, CliContext context, string defaultNamespace = "default", bool allowEmpty = false)
    {
        // The argument parser hands an option it does not know to PATH; never read it as a file.
        if (paths.FirstOrDefault(p => p.Length > 1 && p.StartsWith('-')) is { } unknown)
        {
            context.Error.WriteLine($"error: unknown option '{unknown}' (see --help)");
            return null;
        }

        var loader = new ManifestLoader(new LoaderOptions { MaxFileBytes = MaxSnapshotBytes, DefaultNamespace = defaultNamespace });
        var loaded = loader.LoadPaths(paths.Select(p => p == ManifestLoader.StdinName ? p : Path.GetFullPath(p, context.WorkingDirectory)), context.Stdin);
        WriteDiagnostics(context.Error, loaded.Diagnostics.Select(d => d with { Message = RelativeTo(d.Message, context.WorkingDirectory) }));

        if (loaded.Resources.Count == 0 && !allowEmpty)
        {
            context.Error.WriteLine(NoObjects(loaded.HasErrors));
            return null;
        }

        return new LoadedInput(loaded.Resources, loaded.HasErrors);
    }

    /// <summary>The message for an input without a single Kubernetes object.</summary>
    public static string NoObjects(bool hadErrors) =>
        hadErrors
            ? "error: no Kubernetes object could be read from the input"
            : "error: the input holds no Kubernetes objects (empty file or stdin, or a failed `helm template`/`kustomize build`?); give --allow-empty to accept that";

    private static string RelativeTo(string message, string dir) => message.Replace(dir + Path.DirectorySeparatorChar, string.Empty, StringComparison.Ordinal);
}
