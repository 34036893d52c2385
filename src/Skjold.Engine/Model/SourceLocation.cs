namespace Skjold.Engine.Model;

/// <summary>Where something sits in the input: a file (or "-" for stdin), 1-based line and column.</summary>
public readonly record struct SourceLocation(string File, int Line, int Column = 0)
{
    public override string ToString() => Column > 0 ? $"{File}:{Line}:{Column}" : $"{File}:{Line}";
}
