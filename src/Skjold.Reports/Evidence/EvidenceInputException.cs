namespace Skjold.Reports.Evidence;

/// <summary>Which input of the evidence pipeline was wrong.</summary>
public enum EvidenceInputKind
{
    NodeResults,
    Baseline,
}

/// <summary>An input of the evidence pipeline (node results, a baseline) is not what it claims to be; the message says what is wrong.</summary>
public sealed class EvidenceInputException : Exception
{
    public EvidenceInputException(EvidenceInputKind kind, string message, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
    }

    public EvidenceInputException()
    {
    }

    public EvidenceInputException(string message)
        : base(message)
    {
    }

    public EvidenceInputException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public EvidenceInputKind Kind { get; }

    /// <summary>The file as given, when the problem is one file's (it could not be read, or is not what it should be).</summary>
    public string? File { get; init; }

    /// <summary>The file was read but is not a report of the expected kind (as opposed to unreadable).</summary>
    public bool NotAReport { get; init; }
}
