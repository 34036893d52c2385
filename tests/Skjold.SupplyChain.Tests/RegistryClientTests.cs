using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Skjold.SupplyChain.Oci;

namespace Skjold.SupplyChain.Tests;

/// <summary>The OCI client against a real registry (Debian's docker-registry on loopback, TLS, htpasswd), and against loopback sockets that misbehave.</summary>
public sealed class RegistryClientTests(RegistryFixture fx) : IClassFixture<RegistryFixture>
{
    [Fact]
    public async Task Resolve_Tag_ReturnsPushedDigest()
    {
        using var client = fx.Client();
        var image = fx.Image("apps/resolve");
        var digest = await TestSupport.TestImages.PushImageAsync(client, image);
        var (resolved, mediaType) = await client.ResolveAsync(image, default);
        Assert.Equal(digest, resolved);
        Assert.Equal(OciMediaTypes.ImageManifest, mediaType);
        var manifest = await client.GetManifestAsync(image, resolved, default);
        Assert.Equal(digest, RegistryClient.Sha256Digest(manifest.Bytes));
        Assert.Single(manifest.Layers);
        var blob = await client.GetBlobAsync(image, manifest.Layers[0].Digest, default);
        Assert.Equal(512, blob.Length);
    }

    [Fact]
    public async Task Resolve_Index_ListsPlatforms()
    {
        using var client = fx.Client();
        var image = fx.Image("apps/multiarch");
        var (index, amd, arm) = await TestSupport.TestImages.PushIndexAsync(client, image);
        var (resolved, mediaType) = await client.ResolveAsync(image, default);
        Assert.Equal(index, resolved);
        Assert.Equal(OciMediaTypes.ImageIndex, mediaType);
        var manifest = await client.GetManifestAsync(image, resolved, default);
        Assert.True(manifest.IsIndex);
        Assert.Equal(amd, manifest.Manifests.Single(m => m.Platform == "linux/amd64").Digest);
        Assert.Equal(arm, manifest.Manifests.Single(m => m.Platform == "linux/arm64").Digest);
        Assert.Equal(amd, manifest.ForPlatform("linux/amd64")!.Digest);
        Assert.Null(manifest.ForPlatform("windows/amd64"));
    }

    [Fact]
    public async Task Resolve_WithoutCredentials_ClearAuthenticationError()
    {
        using (var pusher = fx.Client())
        {
            await TestSupport.TestImages.PushImageAsync(pusher, fx.Image("apps/private"));
        }

        using var client = fx.Client(new RegistryClientOptions());
        var e = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(fx.Image("apps/private"), default));
        Assert.Contains("none is configured", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(TestSupport.OciRegistry.Password, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resolve_WrongPassword_Http401()
    {
        var credentials = RegistryCredentials.None.With(fx.Registry.Host, new RegistryCredential(TestSupport.OciRegistry.User, "wrong"));
        using var client = fx.Client(new RegistryClientOptions { Credentials = credentials });
        var e = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(fx.Image("apps/anything"), default));
        Assert.Equal(401, e.Status);
        Assert.DoesNotContain("wrong", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resolve_UnknownTag_NotFound()
    {
        using var client = fx.Client();
        var e = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(fx.Image("apps/none", "nope"), default));
        Assert.Equal(404, e.Status);
    }

    [Fact]
    public async Task GetManifest_LargerThanLimit_Refused()
    {
        using var pusher = fx.Client();
        var image = fx.Image("apps/large");
        var digest = await TestSupport.TestImages.PushImageAsync(pusher, image);
        using var client = fx.Client(fx.Options with { MaxManifestBytes = 100 });
        var e = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync(image, digest, default));
        Assert.Contains("limit", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Referrers_RegistryWithoutApi_FallsBackToTagSchema()
    {
        using var client = fx.Client();
        var image = fx.Image("apps/referred");
        var digest = await TestSupport.TestImages.PushImageAsync(client, image);
        Assert.Empty(await client.ReferrersAsync(image, digest, null, default));
        await TestSupport.TestImages.PushBundleReferrerAsync(client, image, digest, "{}"u8.ToArray());
        var referrers = await client.ReferrersAsync(image, digest, "application/vnd.dev.sigstore.bundle.v0.3+json", default);
        Assert.Single(referrers);
        Assert.Empty(await client.ReferrersAsync(image, digest, "application/example", default));
    }

    [Fact]
    public async Task Resolve_RegistryDown_Unreachable()
    {
        using var client = fx.Client(new RegistryClientOptions { RequestTimeout = TimeSpan.FromSeconds(2) });
        var port = FreePort();
        var e = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(ImageReference.Parse($"127.0.0.1:{port}/apps/x:v1"), default));
        Assert.True(e.Unreachable);
    }

    [Fact]
    public async Task Resolve_RegistryThatHangs_TimesOut()
    {
        // Accepts connections and never answers: the request must end at the timeout, not hang admission.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var held = new List<TcpClient>();
        _ = Task.Run(async () =>
        {
            while (true)
            {
                try
                {
                    held.Add(await listener.AcceptTcpClientAsync());
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return;
                }
            }
        });
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var client = new RegistryClient(new RegistryClientOptions { RequestTimeout = TimeSpan.FromMilliseconds(500), AllowHttpLoopback = true });
        var e = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(ImageReference.Parse($"127.0.0.1:{port}/apps/x:v1"), default));
        Assert.True(e.Unreachable);
        Assert.Contains("no answer", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_RedirectToPlainHttp_Refused()
    {
        await using var server = await LoopbackHttp.StartAsync(ctx =>
        {
            ctx.Response.StatusCode = 307;
            ctx.Response.Headers.Location = "http://198.51.100.7/v2/apps/x/manifests/v1";
            return Task.CompletedTask;
        });
        using var client = new RegistryClient(new RegistryClientOptions { AllowHttpLoopback = true });
        var e = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync(ImageReference.Parse($"{server.Host}/apps/x:v1"), "v1", default));
        Assert.Contains("refused a redirect", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_MalformedManifest_ClearError()
    {
        await using var server = await LoopbackHttp.StartAsync(async ctx =>
        {
            ctx.Response.ContentType = OciMediaTypes.ImageManifest;
            await ctx.Response.WriteAsync("{\"schemaVersion\":2,\"layers\":[{\"mediaType\":\"x\"}");
        });
        using var client = new RegistryClient(new RegistryClientOptions { AllowHttpLoopback = true });
        var e = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync(ImageReference.Parse($"{server.Host}/apps/x:v1"), "v1", default));
        Assert.Contains("malformed manifest", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_ContentNotMatchingDigest_Refused()
    {
        await using var server = await LoopbackHttp.StartAsync(async ctx =>
        {
            ctx.Response.ContentType = OciMediaTypes.ImageManifest;
            await ctx.Response.WriteAsync("{\"schemaVersion\":2,\"layers\":[]}");
        });
        using var client = new RegistryClient(new RegistryClientOptions { AllowHttpLoopback = true });
        var asked = "sha256:" + new string('a', 64);
        var e = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync(ImageReference.Parse($"{server.Host}/apps/x:v1"), asked, default));
        Assert.Contains("has digest", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Http_ToNonLoopbackRegistry_NeverUsed()
    {
        // AllowHttpLoopback only ever means loopback: a remote registry is always spoken to over HTTPS.
        using var client = new RegistryClient(new RegistryClientOptions { AllowHttpLoopback = true, RequestTimeout = TimeSpan.FromMilliseconds(300) });
        var method = typeof(RegistryClient).GetMethod("BaseUri", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        Assert.Equal("https", ((Uri)method.Invoke(client, [ImageReference.Parse("registry.example.com/a/b:1")])!).Scheme);
        Assert.Equal("http", ((Uri)method.Invoke(client, [ImageReference.Parse("127.0.0.1:5000/a/b:1")])!).Scheme);
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
