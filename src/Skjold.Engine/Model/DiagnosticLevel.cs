namespace Skjold.Engine.Model;

public enum DiagnosticLevel
{
    Warning = 0,
    Error = 1,
}
