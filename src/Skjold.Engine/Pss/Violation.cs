namespace Skjold.Engine.Pss;

/// <summary>A raw check result before it becomes a <see cref="Model.Finding"/>.</summary>
internal readonly record struct Violation(string CheckId, string Path, string Message);
