using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Skjold.Server.Tls;

/// <summary>
/// Generates a private CA and a serving certificate for <c>service.namespace.svc</c> (ECDSA P-256),
/// for clusters without cert-manager and for local use. The CA's PEM, base64-encoded, is the
/// caBundle for the webhook configuration.
/// </summary>
public static class SelfSignedCertificates
{
    public sealed record Generated(X509Certificate2 Server, string CaPem, string ServerPem, string ServerKeyPem)
    {
        public string CaBundle => Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(CaPem));
    }

    public static Generated Create(string service, string ns, TimeProvider time, IEnumerable<string>? extraNames = null, TimeSpan? lifetime = null)
    {
        var now = time.GetUtcNow();
        var validity = lifetime ?? TimeSpan.FromDays(365);
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest($"CN=Skjold webhook CA ({ns})", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.Add(validity));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var dns = $"{service}.{ns}.svc";
        var request = new CertificateRequest($"CN={dns}", serverKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in new[] { service, $"{service}.{ns}", dns, $"{dns}.cluster.local", "localhost" }.Concat(extraNames ?? []))
        {
            san.AddDnsName(name);
        }

        san.AddIpAddress(System.Net.IPAddress.Loopback);
        san.AddIpAddress(System.Net.IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        using var signed = request.Create(ca, now.AddMinutes(-5), now.Add(validity).AddMinutes(-10), serial);
        using var withKey = signed.CopyWithPrivateKey(serverKey);
        var server = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        return new Generated(server, ca.ExportCertificatePem(), signed.ExportCertificatePem(), serverKey.ExportPkcs8PrivateKeyPem());
    }
}
