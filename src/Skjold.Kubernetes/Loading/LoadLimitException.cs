namespace Skjold.Kubernetes.Loading;

/// <summary>Raised inside the loader when a document exceeds a limit; becomes a diagnostic.</summary>
internal sealed class LoadLimitException(string code, string message, int line, int column) : Exception(message)
{
    public string Code { get; } = code;

    public int Line { get; } = line;

    public int Column { get; } = column;
}
