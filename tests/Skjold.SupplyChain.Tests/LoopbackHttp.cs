using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Skjold.SupplyChain.Tests;

/// <summary>Kestrel on a loopback port with one handler, for registry behaviours a real registry will not show (redirects, garbage).</summary>
public sealed class LoopbackHttp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackHttp(WebApplication app, string host)
    {
        _app = app;
        Host = host;
    }

    public string Host { get; }

    public static async Task<LoopbackHttp> StartAsync(RequestDelegate handler)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.Run(handler);
        await app.StartAsync();
        var address = app.Services.GetService(typeof(IServer)) is IServer s ? s.Features.Get<IServerAddressesFeature>()!.Addresses.First() : throw new InvalidOperationException();
        return new LoopbackHttp(app, new Uri(address).Authority);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
