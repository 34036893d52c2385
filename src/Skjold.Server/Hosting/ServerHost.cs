using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Skjold.Engine.Policy;
using Skjold.Kubernetes.Watch;
using Skjold.Server.Observability;

namespace Skjold.Server.Hosting;

/// <summary>Builds the `skjold serve` web host: Kestrel over TLS, the webhook endpoints, health and metrics.</summary>
public static class ServerHost
{
    /// <summary>
    /// Builds the host. <paramref name="namespaceCache"/> decides where namespace labels come from;
    /// when it is also a hosted service (the API watcher) it is started with the host.
    /// </summary>
    public static WebApplication Build(
        ServeOptions options,
        ScanPolicy policy,
        Func<IServiceProvider, INamespaceCache> namespaceCache,
        IAdmissionDecisionSink? sink = null,
        TimeProvider? time = null,
        Action<ILoggingBuilder>? logging = null,
        Skjold.Audit.AuditLog? audit = null,
        AuditReceiver.AuditReceiverOptions? auditOptions = null,
        Detection.DetectionPipeline? detection = null,
        Detection.FalcoReceiverOptions? falco = null,
        Skjold.SupplyChain.Admission.ImageAdmission? images = null,
        Incidents.IncidentClockWatcher? incidents = null)
    {
        options.Validate();
        if (falco is not null)
        {
            falco.Validate();
            if (audit is null || detection is null)
            {
                throw new ArgumentException("the Falco endpoint seals alerts into the audit trail: it needs the audit receiver", "Falco");
            }
        }

        if (audit is not null)
        {
            (auditOptions ?? throw new ArgumentException("the audit receiver needs authentication options")).Validate();
        }
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "skjold" });
        builder.Logging.ClearProviders();
        if (logging is not null)
        {
            logging(builder.Logging);
        }
        else
        {
            // JSON lines on stdout, written in batches (the console logger writes once per entry).
            builder.Services.AddSingleton<ILoggerProvider>(_ => JsonLinesLoggerProvider.StandardOutput());
        }

        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("System", LogLevel.Warning);

        // A host that cannot start (a busy port, a bad certificate) throws to the caller, which reports
        // it in one line; the host's own log of that failure would repeat it with a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // A backstop only: the handlers enforce their exact limits on the decoded body. Kestrel
            // counts chunked framing against its limit, so an exact limit here would refuse a
            // chunked body of exactly the allowed size that the same body with Content-Length passes.
            var largest = Math.Max(options.MaxRequestBodyBytes, auditOptions?.MaxBodyBytes ?? 0);
            kestrel.Limits.MaxRequestBodySize = (2 * largest) + (1L << 20);
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            var endpoint = Endpoint(options.Listen);
            kestrel.Listen(endpoint, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificateSelector = (_, _) => options.Certificate.Current,
                    ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                    ClientCertificateValidation = (_, _, _) => true,
                    SslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13,
                });
            });
        });

        builder.Services.AddSkjoldAdmission(options, policy, namespaceCache, sink, time);
        if (images is not null)
        {
            builder.Services.AddSingleton(images);
        }

        if (incidents is not null)
        {
            builder.Services.AddSingleton<IHostedService>(incidents);
        }

        if (audit is not null)
        {
            builder.Services.AddSkjoldAuditReceiver(audit, auditOptions!);
        }

        if (falco is not null)
        {
            builder.Services.AddSkjoldFalcoReceiver(detection!, falco);
        }

        var app = builder.Build();
        if (detection is not null)
        {
            app.Services.GetRequiredService<ServerMetrics>().AttachDetection(detection);
        }

        if (images is not null)
        {
            app.Services.GetRequiredService<ServerMetrics>().AttachSupplyChain(images.Service);
            if (images.Service.Settings.Vulnerabilities?.ReportToken is { } token)
            {
                var reports = new SupplyChain.ScanReportHandler(images.Service.Settings.Reports, token);
                app.MapPost("/supply-chain/reports", reports.HandleAsync);
            }
        }

        if (incidents is not null)
        {
            app.Services.GetRequiredService<ServerMetrics>().AttachIncidents(incidents);
        }

        app.MapSkjoldAdmission();
        if (audit is not null)
        {
            app.MapSkjoldAuditReceiver();
        }

        if (falco is not null)
        {
            app.MapSkjoldFalcoReceiver();
        }

        app.MapSkjoldHealth();
        return app;
    }

    /// <summary>The address the host listens on once started (resolves port 0).</summary>
    public static Uri BoundAddress(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return new Uri(addresses.First().Replace("[::]", "localhost", StringComparison.Ordinal).Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));
    }

    private static IPEndPoint Endpoint(Uri listen)
    {
        var host = listen.Host;
        var address = host switch
        {
            "localhost" => IPAddress.Loopback,
            "*" or "+" or "0.0.0.0" => IPAddress.Any,
            "::" or "[::]" => IPAddress.IPv6Any,
            _ => IPAddress.TryParse(host.Trim('[', ']'), out var ip) ? ip : throw new ArgumentException($"the listen host '{host}' must be an IP address, localhost or 0.0.0.0", "Listen"),
        };
        return new IPEndPoint(address, listen.Port);
    }
}
