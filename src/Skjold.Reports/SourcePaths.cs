using Skjold.Engine.Model;

namespace Skjold.Reports;

/// <summary>Places relative to a base directory, so that a report leaves this machine's paths behind.</summary>
public static class SourcePaths
{
    /// <summary>The location with its file relative to <paramref name="baseDir"/>, when it lies under it; otherwise unchanged.</summary>
    public static SourceLocation? Relativize(SourceLocation? location, string baseDir)
    {
        if (location is not { } l || !Path.IsPathRooted(l.File))
        {
            return location;
        }

        var rel = Path.GetRelativePath(baseDir, l.File);
        return rel.StartsWith("..", StringComparison.Ordinal) ? l : l with { File = rel };
    }

    /// <summary>
    /// <see cref="Relativize(SourceLocation?, string)"/> for a stream of locations, such as a scan's
    /// findings: a file's relative path is computed once and reused while its findings keep coming
    /// (they share its path string). For one caller at a time.
    /// </summary>
    public static Func<SourceLocation?, SourceLocation?> PerFile(string baseDir)
    {
        string? lastFile = null;
        string? lastRelative = null;
        return location =>
        {
            if (location is not { } at)
            {
                return location;
            }

            if (!ReferenceEquals(at.File, lastFile))
            {
                lastFile = at.File;
                lastRelative = Relativize(at, baseDir)!.Value.File;
            }

            return at with { File = lastRelative! };
        };
    }

    /// <summary>The diagnostic with its location and message relative to <paramref name="baseDir"/>.</summary>
    public static Diagnostic Relativize(Diagnostic d, string baseDir) =>
        d with { Location = Relativize(d.Location, baseDir), Message = d.Message.Replace(baseDir + Path.DirectorySeparatorChar, string.Empty, StringComparison.Ordinal) };

    /// <summary>How a report names an input path: relative when under <paramref name="baseDir"/>, else its last segment (never this machine's absolute path).</summary>
    public static string InputLabel(string path, string baseDir, string stdinName = "-") =>
        path == stdinName || !Path.IsPathRooted(path) ? path
        : Path.GetRelativePath(baseDir, path) is var rel && !rel.StartsWith("..", StringComparison.Ordinal) ? rel : Path.GetFileName(path.TrimEnd('/'));
}
