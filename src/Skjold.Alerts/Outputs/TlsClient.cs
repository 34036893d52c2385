using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Skjold.Alerts.Outputs;

/// <summary>TLS client settings shared by the outputs: TLS 1.2+, the receiver's name checked, a configured CA trusted instead of the system's roots.</summary>
internal static class TlsClient
{
    public static SslClientAuthenticationOptions Options(string? serverName, X509Certificate2Collection? trustedCas, X509Certificate2? clientCertificate)
    {
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = serverName,
            EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
        if (clientCertificate is not null)
        {
            options.ClientCertificates = [clientCertificate];
        }

        if (trustedCas is { Count: > 0 })
        {
            options.CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            options.CertificateChainPolicy.CustomTrustStore.AddRange(trustedCas);
        }

        return options;
    }
}
