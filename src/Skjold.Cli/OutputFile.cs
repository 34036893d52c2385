using System.Text;

namespace Skjold.Cli;

/// <summary>Where a command's result goes: a file given with --output, else standard output.</summary>
internal static class OutputFile
{
    /// <summary>
    /// Writes with <paramref name="write"/> to <paramref name="file"/> (relative to the working
    /// directory; UTF-8 without BOM), or to standard output when it is null. False after a
    /// one-line error.
    /// </summary>
    public static bool TryWrite(CliContext context, string? file, Action<TextWriter> write)
    {
        if (file is null)
        {
            write(context.Out);
            return true;
        }

        try
        {
            using var stream = new StreamWriter(Path.GetFullPath(file, context.WorkingDirectory), false, new UTF8Encoding(false));
            write(stream);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            context.Error.WriteLine($"error: cannot write {file}: {ex.Message}");
            return false;
        }
    }

    /// <summary><see cref="TryWrite(CliContext, string?, Action{TextWriter})"/> of text already made.</summary>
    public static bool TryWrite(CliContext context, string? file, string text) => TryWrite(context, file, o => o.Write(text));
}
