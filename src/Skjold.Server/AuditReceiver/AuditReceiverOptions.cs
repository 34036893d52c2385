using System.Security.Cryptography.X509Certificates;

namespace Skjold.Server.AuditReceiver;

/// <summary>
/// How the /audit endpoint authenticates the API server: a bearer token, a client certificate
/// issued by <see cref="ClientCa"/>, or both (either suffices). One of them is required.
/// </summary>
public sealed record AuditReceiverOptions
{
    public string? Token { get; init; }

    public X509Certificate2? ClientCa { get; init; }

    /// <summary>Largest batch accepted (413 above). Default 64 MiB.</summary>
    public long MaxBodyBytes { get; init; } = 64L * 1024 * 1024;

    public void Validate()
    {
        if (string.IsNullOrEmpty(Token) && ClientCa is null)
        {
            throw new ArgumentException("the audit receiver needs a bearer token (--audit-token-file) or a client CA (--audit-client-ca): unauthenticated audit input is refused");
        }

        if (Token is { Length: < 16 })
        {
            throw new ArgumentException("the audit bearer token must be at least 16 characters");
        }
    }
}
