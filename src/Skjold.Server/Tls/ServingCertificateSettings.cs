using Microsoft.Extensions.Logging;

namespace Skjold.Server.Tls;

/// <summary>Where the serving certificate comes from: generated now (self-signed, for service.namespace.svc) or PEM files reloaded when they change.</summary>
public sealed record ServingCertificateSettings
{
    public bool SelfSigned { get; init; }

    public string Service { get; init; } = "skjold";

    public string Namespace { get; init; } = "skjold-system";

    public string? CertificateFile { get; init; }

    public string? KeyFile { get; init; }

    /// <summary>
    /// The one certificate set-up of every host: the certificate to serve, and the CA bundle to
    /// give the API server when it was generated. Throws <see cref="ArgumentException"/> (parameter:
    /// <c>Certificate</c> when no source is given, <c>CertificateFile</c> when the files cannot be loaded).
    /// </summary>
    public (ServerCertificate Certificate, string? CaBundle) Create(ILogger logger, TimeProvider? time = null)
    {
        var clock = time ?? TimeProvider.System;
        if (SelfSigned)
        {
            var generated = SelfSignedCertificates.Create(Service, Namespace, clock);
            return (ServerCertificate.FromCertificate(generated.Server, logger), generated.CaBundle);
        }

        if (CertificateFile is null || KeyFile is null)
        {
            throw new ArgumentException("no serving certificate: a certificate and key file, or a self-signed one, is needed", "Certificate");
        }

        try
        {
            return (ServerCertificate.FromFiles(CertificateFile, KeyFile, logger, time: clock), null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new ArgumentException($"cannot load the certificate and key: {ex.Message}", "CertificateFile", ex);
        }
    }
}
