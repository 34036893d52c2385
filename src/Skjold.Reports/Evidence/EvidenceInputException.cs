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
}
