namespace Skjold.SupplyChain.Sigstore;

/// <summary>A bundle, trusted root or signature that does not verify; the message says which check failed.</summary>
public sealed class SigstoreException : Exception
{
    public SigstoreException(string message) : base(message)
    {
    }

    public SigstoreException(string message, Exception inner) : base(message, inner)
    {
    }

    public SigstoreException()
    {
    }
}
