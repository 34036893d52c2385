using Skjold.Engine.Model;

namespace Skjold.Kubernetes.Loading;

/// <summary>Which files a load reads (kubectl's directory walk) and how: bounded reads of files and standard input, encodings refused.</summary>
public sealed partial class ManifestLoader
{
    /// <summary>
    /// The manifest files under a directory, as <c>kubectl apply -R</c> walks it: recursively, in a
    /// stable order, without following symbolic links to directories (a loop or an "up -> .." link
    /// cannot make the walk endless or read a file twice), and passing over entries that are not
    /// regular files with content (FIFOs, devices and sockets report no size; opening a FIFO would
    /// block), each with a diagnostic.
    /// </summary>
    private List<string> Walk(string root, List<Diagnostic> diagnostics)
    {
        var found = new List<string>();
        var notes = new List<Diagnostic>();
        var enumeration = new System.IO.Enumeration.FileSystemEnumerable<(string Path, bool IsDirectory, bool IsLink, long Length)>(
            root,
            (ref System.IO.Enumeration.FileSystemEntry e) => (e.ToFullPath(), e.IsDirectory, (e.Attributes & FileAttributes.ReparsePoint) != 0, e.IsDirectory ? 0 : e.Length),
            new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, MaxRecursionDepth = 64, AttributesToSkip = FileAttributes.Hidden | FileAttributes.System })
        {
            ShouldRecursePredicate = (ref System.IO.Enumeration.FileSystemEntry e) => (e.Attributes & FileAttributes.ReparsePoint) == 0,
        };
        var entries = enumeration.ToList();
        var charts = new List<string>();
        foreach (var (path, isDirectory, _, _) in entries)
        {
            if (!isDirectory && Path.GetFileName(path) == "Chart.yaml")
            {
                charts.Add(Path.GetDirectoryName(path)! + Path.DirectorySeparatorChar);
            }
        }

        foreach (var chart in charts)
        {
            notes.Add(Diagnostic.Warning("helm-chart",
                $"{chart.TrimEnd(Path.DirectorySeparatorChar)}: a Helm chart; its templates are not manifests until rendered, so they are skipped: scan them with `helm template RELEASE {chart.TrimEnd(Path.DirectorySeparatorChar)} | skjold scan -`"));
        }

        foreach (var (path, isDirectory, isLink, length) in entries)
        {
            if (charts.Any(c => path.StartsWith(c + "templates" + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
            {
                continue;
            }

            if (!isDirectory && IsKustomization(Path.GetFileName(path)))
            {
                notes.Add(KustomizationNote(path));
                continue;
            }

            if (isDirectory)
            {
                if (isLink)
                {
                    notes.Add(Diagnostic.Warning("symlink-directory", $"{path}: symbolic link to a directory; not followed (name the target to scan it)"));
                }

                continue;
            }

            if (!Extensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase) || IsSkipped(Path.GetFileName(path)))
            {
                continue;
            }

            long size;
            try
            {
                size = isLink ? File.ResolveLinkTarget(path, returnFinalTarget: true) is FileInfo target && target.Exists ? target.Length : -1 : length;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                size = -1;
            }

            if (size < 0)
            {
                notes.Add(Diagnostic.Warning("broken-symlink", $"{path}: symbolic link to nothing readable; skipped"));
                continue;
            }

            if (size == 0)
            {
                notes.Add(Diagnostic.Warning("not-a-regular-file", $"{path}: empty, or not a regular file (a FIFO, device or socket); skipped"));
                continue;
            }

            found.Add(path);
        }

        found.Sort(StringComparer.Ordinal);
        diagnostics.AddRange(notes.OrderBy(d => d.Message, StringComparer.Ordinal));
        return found;
    }

    /// <summary>UTF-16 or UTF-32 by byte order mark, or by the NUL bytes ASCII text has in those encodings.</summary>
    private static string? OtherEncoding(ReadOnlySpan<byte> b)
    {
        if (b.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE, 0, 0]))
        {
            return "UTF-32 (little-endian)";
        }

        if (b.StartsWith((ReadOnlySpan<byte>)[0, 0, 0xFE, 0xFF]))
        {
            return "UTF-32 (big-endian)";
        }

        if (b.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || b.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            return "UTF-16";
        }

        var head = b[..Math.Min(b.Length, 64)];
        var zeros = 0;
        foreach (var x in head)
        {
            zeros += x == 0 ? 1 : 0;
        }

        return head.Length >= 8 && zeros * 4 >= head.Length ? (zeros * 4 >= head.Length * 3 - 8 ? "UTF-32 (no byte order mark)" : "UTF-16 (no byte order mark)") : null;
    }

    /// <summary>kustomize's own files: input to kustomize, never Kubernetes objects.</summary>
    private static bool IsKustomization(string fileName) => fileName is "kustomization.yaml" or "kustomization.yml" or "Kustomization";

    private static Diagnostic KustomizationNote(string path) =>
        Diagnostic.Warning("kustomization", $"{path}: a kustomization file (input to kustomize, not a Kubernetes object); skipped: scan the overlay with `kustomize build {Path.GetDirectoryName(path)} | skjold scan -`");

    private static bool IsSkipped(string fileName) =>
        SkippedInDirectories.Contains(fileName, StringComparer.Ordinal)
        || (fileName.StartsWith("values", StringComparison.Ordinal) && fileName.EndsWith(".yaml", StringComparison.Ordinal));

    /// <summary>
    /// Reads at most the size limit, whatever the file system says the size is (a symlink to
    /// /dev/zero or a named pipe reports none): a larger input is refused, never read whole.
    /// </summary>
    private byte[]? ReadFile(string path, List<Diagnostic> diagnostics)
    {
        try
        {
            var info = new FileInfo(path);
            if (info.Length > _options.MaxFileBytes)
            {
                diagnostics.Add(TooLarge(path, info.Length));
                return null;
            }

            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
            return ReadBounded(stream, path, diagnostics);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            diagnostics.Add(Diagnostic.Error("io-error", $"{path}: cannot read: {ex.Message}"));
            return null;
        }
    }

    private byte[]? ReadBounded(Stream input, string name, List<Diagnostic> diagnostics)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = input.Read(chunk, 0, (int)Math.Min(chunk.Length, _options.MaxFileBytes + 1 - buffer.Length))) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > _options.MaxFileBytes)
            {
                diagnostics.Add(TooLarge(name, buffer.Length, stdinStopped: true));
                return null;
            }
        }

        return buffer.ToArray();
    }

    private byte[]? ReadStdin(Func<Stream>? stdin, List<Diagnostic> diagnostics)
    {
        using var input = stdin?.Invoke() ?? Console.OpenStandardInput();
        return ReadBounded(input, StdinName, diagnostics);
    }

    private Diagnostic TooLarge(string name, long size, bool stdinStopped = false) =>
        Diagnostic.Error("file-too-large",
            $"{name}: {(stdinStopped ? "input exceeds" : $"file is {size:N0} bytes, over")} the limit of {_options.MaxFileBytes:N0} bytes; skipped (raise it with --max-file-size)",
            new SourceLocation(name, 1));
}
