using System.Security.Cryptography.X509Certificates;

namespace Skjold.Server.AuditReceiver;

/// <summary>
/// How the /audit endpoint authenticates the API server: a bearer token, a client certificate
/// issued by <see cref="ClientCa"/>, or both (either suffices). One of them is required.
/// </summary>
public sealed record AuditReceiverOptions
{
    public string? Token { get; init; }

    /// <summary>
    /// Bearer token of the read API (GET /audit/events, GET /audit/proof/INDEX) for investigators and
    /// auditors; without it the read API is not served. Never the same as <see cref="Token"/>: the
    /// API server's credential must not read the trail.
    /// </summary>
    public string? QueryToken { get; init; }

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

        if (QueryToken is { Length: < 16 })
        {
            throw new ArgumentException("the audit query token must be at least 16 characters");
        }

        if (QueryToken is not null && QueryToken == Token)
        {
            throw new ArgumentException("the audit query token must differ from the token the API server sends");
        }
    }
}
