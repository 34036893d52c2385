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

    /// <summary>Throws an <see cref="ArgumentException"/> (parameter name: the property) for the first problem.</summary>
    public void Validate() => AuditReceiverOptionsValidator.Instance.ThrowIfInvalid(this);
}
