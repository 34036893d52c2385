namespace Skjold.Audit.Storage;

/// <summary>
/// The audit store cannot be used: it cannot be opened or reached (a missing file, a refused
/// connection, a bad password), its keys are missing, or its rows disagree with what was sealed
/// (<see cref="AuditStoreTamperedException"/>). Hosts catch this instead of the database
/// providers' exception types; the message says what to do.
/// </summary>
public class AuditStoreException : InvalidOperationException
{
    public AuditStoreException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    public AuditStoreException()
    {
    }

    public AuditStoreException(string message)
        : base(message)
    {
    }
}
