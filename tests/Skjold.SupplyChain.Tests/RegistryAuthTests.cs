using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Skjold.SupplyChain.Oci;

namespace Skjold.SupplyChain.Tests;

/// <summary>
/// The Bearer token flow of the distribution spec (docker-registry here is configured with basic auth, so a
/// loopback Kestrel plays a registry with a token service), and credentials from pull secrets.
/// </summary>
public sealed class RegistryAuthTests
{
    [Fact]
    public async Task Bearer_ChallengeThenTokenWithBasicCredentials_ThenRetried()
    {
        const string Token = "registry-token-123";
        var tokenRequests = new List<string>();
        string? realm = null;
        await using var server = await LoopbackHttp.StartAsync(async ctx =>
        {
            if (ctx.Request.Path == "/token")
            {
                tokenRequests.Add($"{ctx.Request.QueryString} {ctx.Request.Headers.Authorization}");
                ctx.Response.ContentType = "application/json";
                await ctx.Response.WriteAsync($"{{\"token\":\"{Token}\",\"expires_in\":300}}");
                return;
            }

            if (ctx.Request.Headers.Authorization != $"Bearer {Token}")
            {
                ctx.Response.StatusCode = 401;
                ctx.Response.Headers.WWWAuthenticate = $"Bearer realm=\"{realm}\",service=\"test-registry\",scope=\"repository:apps/api:pull\"";
                return;
            }

            ctx.Response.ContentType = OciMediaTypes.ImageManifest;
            ctx.Response.Headers["Docker-Content-Digest"] = RegistryClient.Sha256Digest("{\"schemaVersion\":2,\"layers\":[]}"u8);
            if (ctx.Request.Method == "GET")
            {
                await ctx.Response.WriteAsync("{\"schemaVersion\":2,\"layers\":[]}");
            }
        });
        realm = $"http://{server.Host}/token";
        var credentials = RegistryCredentials.None.With(server.Host, new RegistryCredential("ci", "s3cret"));
        using var client = new RegistryClient(new RegistryClientOptions { AllowHttpLoopback = true, Credentials = credentials });
        var image = ImageReference.Parse($"{server.Host}/apps/api:1");
        var (digest, _) = await client.ResolveAsync(image, default);
        Assert.StartsWith("sha256:", digest, StringComparison.Ordinal);
        await client.GetManifestAsync(image, digest, default);
        var only = Assert.Single(tokenRequests); // the token is reused for the second request
        Assert.Contains("service=test-registry", only, StringComparison.Ordinal);
        Assert.Contains("scope=repository%3Aapps%2Fapi%3Apull", only, StringComparison.Ordinal);
        Assert.Contains("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("ci:s3cret")), only, StringComparison.Ordinal);
    }

    [Fact]
    public void FromSecret_DockerConfigJsonSecret_ReadsEveryRegistry()
    {
        var config = "{\"auths\":{\"registry.example.com\":{\"auth\":\"" + Convert.ToBase64String(Encoding.UTF8.GetBytes("robot:pw")) + "\"},\"https://index.docker.io/v1/\":{\"username\":\"hub\",\"password\":\"x\"}}}";
        using var secret = JsonDocument.Parse($"{{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"type\":\"kubernetes.io/dockerconfigjson\",\"data\":{{\".dockerconfigjson\":\"{Convert.ToBase64String(Encoding.UTF8.GetBytes(config))}\"}}}}");
        var c = RegistryCredentials.FromSecret(secret.RootElement);
        Assert.Equal("robot", c.For("registry.example.com")!.Username);
        Assert.Equal("hub", c.For("docker.io")!.Username);
        Assert.Null(c.For("ghcr.io"));
        Assert.DoesNotContain("pw", c.For("registry.example.com")!.ToString(), StringComparison.Ordinal);
        using var empty = JsonDocument.Parse("{\"kind\":\"Secret\",\"data\":{\"token\":\"eA==\"}}");
        Assert.Contains(".dockerconfigjson", Assert.Throws<RegistryException>(() => RegistryCredentials.FromSecret(empty.RootElement)).Message, StringComparison.Ordinal);
    }
}
