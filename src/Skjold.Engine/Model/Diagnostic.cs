namespace Skjold.Engine.Model;

/// <summary>
/// A problem with the input or configuration rather than with a resource's security: a document that
/// does not parse, a missing kind, an oversized file. Errors make the scan exit with code 2.
/// </summary>
public sealed record Diagnostic(DiagnosticLevel Level, string Code, string Message, SourceLocation? Location)
{
    public static Diagnostic Error(string code, string message, SourceLocation? location = null) =>
        new(DiagnosticLevel.Error, code, message, location);

    public static Diagnostic Warning(string code, string message, SourceLocation? location = null) =>
        new(DiagnosticLevel.Warning, code, message, location);

    public override string ToString() =>
        Location is { } l ? $"{l}: {Level.ToString().ToLowerInvariant()}: {Message}" : $"{Level.ToString().ToLowerInvariant()}: {Message}";
}
