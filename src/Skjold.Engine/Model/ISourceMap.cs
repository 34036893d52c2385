namespace Skjold.Engine.Model;

/// <summary>
/// Maps a JSON path inside one resource back to the line in the file it came from. Implemented by
/// the loaders; the engine only asks.
/// </summary>
public interface ISourceMap
{
    /// <summary>The location of the deepest existing node along <paramref name="path"/>.</summary>
    SourceLocation Locate(string path);
}
