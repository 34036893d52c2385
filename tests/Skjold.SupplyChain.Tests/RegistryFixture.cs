using System.Security.Cryptography.X509Certificates;
using System.Text;
using Skjold.SupplyChain.Oci;
using Skjold.TestSupport;

namespace Skjold.SupplyChain.Tests;

/// <summary>One real registry (docker-registry over TLS with basic auth) and one throwaway Sigstore for a test class.</summary>
public sealed class RegistryFixture : IDisposable
{
    public OciRegistry Registry { get; } = new();

    public TestSigstore Sigstore { get; } = new();

    public X509Certificate2Collection Trust => [Registry.Certificates.Ca];

    public RegistryClientOptions Options => new()
    {
        Credentials = RegistryCredentials.FromDockerConfig(Encoding.UTF8.GetBytes(Registry.DockerConfigJson)),
        RequestTimeout = TimeSpan.FromSeconds(5),
    };

    public RegistryClient Client(RegistryClientOptions? options = null) => new(options ?? Options, Trust);

    public ImageReference Image(string name, string tag = "v1") => ImageReference.Parse($"{Registry.Host}/{name}:{tag}");

    public void Dispose()
    {
        Registry.Dispose();
        Sigstore.Dispose();
    }
}
