using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Skjold.Engine.Admission;
using Skjold.Engine.Policy;
using Skjold.Server.Admission;
using Skjold.Server.AuditReceiver;
using Skjold.Kubernetes.Watch;
using Skjold.Server.Observability;

namespace Skjold.Server.Hosting;

/// <summary>
/// How a host composes Skjold's endpoints: <c>AddSkjold...</c> registers a capability with its
/// options (validated when the host starts), <c>MapSkjold...</c> maps its endpoints.
/// </summary>
public static class SkjoldServerExtensions
{
    /// <summary>The admission webhook (/validate, /mutate, and /noop when enabled), its metrics and the namespace cache.</summary>
    public static IServiceCollection AddSkjoldAdmission(this IServiceCollection services, ServeOptions options, ScanPolicy policy,
        Func<IServiceProvider, INamespaceCache> namespaceCache, IAdmissionDecisionSink? sink = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var clock = time ?? TimeProvider.System;
        services.AddValidatedInstance(options, ServeOptionsValidator.Instance);
        services.AddSingleton(options);
        services.AddSingleton(policy);
        services.TryAddSingleton(clock);
        services.AddSingleton(new AdmissionEvaluator(policy, time: clock));
        services.TryAddSingleton<ServerMetrics>();
        services.AddSingleton(sink ?? NullDecisionSink.Instance);
        services.AddSingleton<INamespaceCache>(namespaceCache);
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<INamespaceCache>() as IHostedService ?? new NoopHostedService());
        services.AddSingleton<AdmissionHandler>();
        return services;
    }

    /// <summary>The audit webhook receiver (POST /audit) and, with a query token, the read API.</summary>
    public static IServiceCollection AddSkjoldAuditReceiver(this IServiceCollection services, Skjold.Audit.AuditLog log, AuditReceiverOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddValidatedInstance(options, AuditReceiverOptionsValidator.Instance);
        services.AddSingleton(log);
        services.AddSingleton(options);
        services.TryAddSingleton<ServerMetrics>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<AuditReceiverHandler>();
        if (options.QueryToken is not null)
        {
            services.AddSingleton<AuditQueryHandler>();
        }

        return services;
    }

    /// <summary>POST /falco: Falco's runtime alerts, sealed into the trail (registered with the audit receiver) and forwarded.</summary>
    public static IServiceCollection AddSkjoldFalcoReceiver(this IServiceCollection services, Detection.DetectionPipeline pipeline, Detection.FalcoReceiverOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        services.AddSingleton(pipeline);
        services.AddSingleton(options);
        services.TryAddSingleton<ServerMetrics>();
        services.AddSingleton<Detection.FalcoReceiverHandler>();
        return services;
    }

    public static IEndpointRouteBuilder MapSkjoldFalcoReceiver(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/falco", app.ServiceProvider.GetRequiredService<Detection.FalcoReceiverHandler>().HandleAsync);
        return app;
    }

    public static IEndpointRouteBuilder MapSkjoldAdmission(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.ServiceProvider.GetRequiredService<ServeOptions>();
        var handler = app.ServiceProvider.GetRequiredService<AdmissionHandler>();
        if (options.EnableAdmission)
        {
            app.MapPost("/validate", ctx => handler.HandleAsync(ctx, mutate: false));
            app.MapPost("/mutate", ctx => handler.HandleAsync(ctx, mutate: true));
        }

        if (options.EnableNoop)
        {
            app.MapPost("/noop", handler.HandleNoopAsync);
        }

        return app;
    }

    public static IEndpointRouteBuilder MapSkjoldAuditReceiver(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var receiver = app.ServiceProvider.GetRequiredService<AuditReceiverHandler>();
        app.MapPost("/audit", receiver.HandleAsync);
        if (app.ServiceProvider.GetService<AuditQueryHandler>() is { } reader)
        {
            app.MapGet("/audit/events", reader.EventsAsync);
            app.MapGet("/audit/proof/{index}", reader.ProofAsync);
            app.MapGet("/audit/consistency/{size}", reader.ConsistencyAsync);
        }

        return app;
    }

    /// <summary>/healthz, /readyz (the namespace cache has synced) and /metrics.</summary>
    public static IEndpointRouteBuilder MapSkjoldHealth(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var metrics = app.ServiceProvider.GetRequiredService<ServerMetrics>();
        var cache = app.ServiceProvider.GetRequiredService<INamespaceCache>();
        // RequestDelegates, not minimal-API handlers: nothing is bound by reflection (native AOT).
        app.MapGet("/healthz", ctx => Results.Text("ok\n").ExecuteAsync(ctx));
        app.MapGet("/readyz", ctx =>
        {
            metrics.NamespaceCacheReady.Set(cache.IsReady ? 1 : 0);
            return (cache.IsReady ? Results.Text("ready\n") : Results.Text("namespace cache not synced yet\n", statusCode: 503)).ExecuteAsync(ctx);
        });
        app.MapGet("/metrics", async ctx =>
        {
            metrics.NamespaceCacheReady.Set(cache.IsReady ? 1 : 0);
            ctx.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await metrics.Registry.CollectAndExportAsTextAsync(ctx.Response.Body, ctx.RequestAborted).ConfigureAwait(false);
        });
        return app;
    }

    /// <summary>Registers options built by the host as <see cref="IOptions{TOptions}"/>, validated on start.</summary>
    private static void AddValidatedInstance<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] T>(this IServiceCollection services, T instance, IValidateOptions<T> validator)
        where T : class
    {
        services.AddSingleton(validator);
        services.AddSingleton<IOptionsFactory<T>>(sp => new InstanceOptionsFactory<T>(instance, sp.GetServices<IValidateOptions<T>>()));
        services.AddOptions<T>().ValidateOnStart();
    }

    private sealed class NoopHostedService : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
