using System.CommandLine;
using k8s;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Skjold.Kubernetes.Live;
using Skjold.Server.Detection;
using Skjold.Server.Hosting;
using Skjold.Kubernetes.Watch;
using Skjold.Server.Tls;

namespace Skjold.Cli;

/// <summary><c>skjold serve</c>: the validating and mutating admission webhook.</summary>
internal static class ServeCommand
{
    public static Command Create(CliContext context)
    {
        var listen = new Option<string>("--listen") { Description = "HTTPS address to listen on", DefaultValueFactory = _ => "https://0.0.0.0:8443" };
        var selfSigned = new Option<bool>("--self-signed") { Description = "Generate a CA and a serving certificate for <service>.<namespace>.svc and print the caBundle" };
        var service = new Option<string>("--service") { Description = "Service name for --self-signed", DefaultValueFactory = _ => "skjold" };
        var ns = new Option<string>("--namespace") { Description = "Namespace for --self-signed", DefaultValueFactory = _ => "skjold-system" };
        var tlsCert = new Option<string?>("--tls-cert") { Description = "PEM certificate file (reloaded when it changes)" };
        var tlsKey = new Option<string?>("--tls-key") { Description = "PEM private key file (reloaded when it changes)" };
        var config = new Option<string?>("--config", "-c") { Description = "Configuration file (skjold.yaml); the admission: section sets modes, actions and exemptions" };
        var namespacesFile = new Option<string?>("--namespaces-file") { Description = "Read namespace labels from this file instead of the API server (offline use, tests)" };
        var cluster = new ClusterOptions();
        var timeout = new Option<double>("--request-timeout") { Description = "Seconds to answer one request; keep below the webhook's timeoutSeconds", DefaultValueFactory = _ => 5 };
        var denyOnTimeout = new Option<bool>("--deny-on-timeout") { Description = "Deny requests that miss the deadline (default: allow, so Skjold never locks the cluster)" };
        var maxSize = new Option<string>("--max-request-size") { Description = "Largest AdmissionReview accepted (413 above)", DefaultValueFactory = _ => "3MiB" };
        var noop = new Option<bool>("--enable-noop") { Description = "Also serve /noop, which answers without evaluating (benchmark floor)" };
        var auditDir = new Option<string?>("--audit-data-dir") { Description = "Also receive API server audit events at POST /audit, sealed into this SQLite log (see skjold audit init)" };
        var auditPostgres = new Option<string?>("--audit-postgres") { Description = "Receive audit events into this PostgreSQL log" };
        var auditKeyDir = new Option<string?>("--audit-key-dir") { Description = "Audit key directory (default: --audit-data-dir)" };
        var auditToken = new Option<string?>("--audit-token-file") { Description = "Bearer token file the API server's audit webhook presents" };
        var auditCa = new Option<string?>("--audit-client-ca") { Description = "CA of the API server's audit client certificate" };
        var auditQueryToken = new Option<string?>("--audit-query-token-file") { Description = "Also serve the audit read API (GET /audit/events, GET /audit/proof/INDEX) to holders of this bearer token" };

        var detection = new DetectionOptions("--audit-detect-rules", withConfig: false);
        var command = new Command("serve", "Run the admission webhook: /validate, /mutate, /metrics, /healthz, /readyz over HTTPS.")
        {
            listen, selfSigned, service, ns, tlsCert, tlsKey, config, namespacesFile, timeout, denyOnTimeout, maxSize, noop,
            auditDir, auditPostgres, auditKeyDir, auditToken, auditCa, auditQueryToken,
        };
        cluster.AddTo(command);
        detection.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var err = context.Error;
            if (!Uri.TryCreate(parse.GetValue(listen), UriKind.Absolute, out var listenUri) || listenUri.Scheme != Uri.UriSchemeHttps)
            {
                await err.WriteLineAsync("error: --listen must be an https:// URL such as https://0.0.0.0:8443").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            if (!SizeParser.TryParse(parse.GetValue(maxSize)!, out var maxBytes))
            {
                await err.WriteLineAsync("error: --max-request-size is not a size such as 3MiB").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            // Detection reads namespace labels from the admission's namespace cache, attached once the host has built it.
            var labels = new NamespaceLabelSource();
            if (!ConfigLoader.TryLoad(parse.GetValue(config), context.WorkingDirectory, err, out var policy)
                || !detection.TryLoad(parse, context, parse.GetValue(config), out var rules, out var outputs, labels)
                || !ConfigLoader.TryLoadSupplyChain(parse.GetValue(config), context.WorkingDirectory, err, out var supplyChain))
            {
                return ExitCodes.UsageOrInputError;
            }

            using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(Skjold.Server.Observability.JsonLinesLoggerProvider.StandardOutput()));
            var logger = loggerFactory.CreateLogger("skjold.serve");
            if (await AuditServeCommand.Certificate(new ServingCertificateSettings
            {
                SelfSigned = parse.GetValue(selfSigned),
                Service = parse.GetValue(service)!,
                Namespace = parse.GetValue(ns)!,
                CertificateFile = parse.GetValue(tlsCert),
                KeyFile = parse.GetValue(tlsKey),
            }, context, logger).ConfigureAwait(false) is not { } certificate)
            {
                return ExitCodes.UsageOrInputError;
            }

            Func<IServiceProvider, INamespaceCache> cacheFactory;
            if (parse.GetValue(namespacesFile) is { } file)
            {
                FileNamespaceCache fileCache;
                try
                {
                    fileCache = new FileNamespaceCache(Path.GetFullPath(file, context.WorkingDirectory));
                }
                catch (InvalidOperationException ex)
                {
                    await err.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                    return ExitCodes.UsageOrInputError;
                }

                cacheFactory = _ => fileCache;
            }
            else
            {
                KubernetesClientConfiguration k8sConfig;
                try
                {
                    k8sConfig = cluster.Load(parse, context).Configuration;
                }
                catch (KubeconfigException ex)
                {
                    await err.WriteLineAsync($"error: no Kubernetes API to watch namespaces: {ex.Message}; give --kubeconfig or --namespaces-file").ConfigureAwait(false);
                    return ExitCodes.UsageOrInputError;
                }

                var client = new k8s.Kubernetes(k8sConfig);
                cacheFactory = sp => new KubernetesNamespaceCache(client, sp.GetRequiredService<ILogger<KubernetesNamespaceCache>>(), context.Time);
            }

            var options = new ServeOptions
            {
                Listen = listenUri,
                Certificate = certificate,
                MaxRequestBodyBytes = maxBytes,
                RequestTimeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
                AllowOnTimeout = !parse.GetValue(denyOnTimeout),
                EnableNoop = parse.GetValue(noop),
            };
            Skjold.Audit.AuditLog? auditLog = null;
            Skjold.Audit.AuditLogSession? auditSession = null;
            DetectionPipeline? detector = null;
            FalcoReceiverOptions? falco = null;
            Skjold.Server.AuditReceiver.AuditReceiverOptions? receiver = null;
            Skjold.Server.AuditReceiver.AuditDecisionSink? decisions = null;
            if (parse.GetValue(auditDir) is null && parse.GetValue(auditPostgres) is null)
            {
                if (detection.Requested(parse) is { } flag)
                {
                    await err.WriteLineAsync($"error: {flag} needs the audit trail: give --audit-data-dir or --audit-postgres").ConfigureAwait(false);
                    return ExitCodes.UsageOrInputError;
                }
            }
            else
            {
                try
                {
                    receiver = AuditServeCommand.ReceiverOptions(parse.GetValue(auditToken), parse.GetValue(auditCa), parse.GetValue(auditQueryToken), context);
                    receiver.Validate();
                    falco = detection.Falco(parse, context);
                    falco?.Validate();
                    var location = new Skjold.Audit.AuditStoreLocation
                    {
                        DataDirectory = Path.GetFullPath(parse.GetValue(auditDir) ?? ".", context.WorkingDirectory),
                        Postgres = parse.GetValue(auditPostgres),
                        KeyDirectory = parse.GetValue(auditKeyDir) is { } k ? Path.GetFullPath(k, context.WorkingDirectory) : null,
                    };
                    auditSession = await Skjold.Audit.AuditLogFactory.OpenAsync(location, time: context.Time, loggers: loggerFactory, cancellationToken: ct).ConfigureAwait(false);
                    auditLog = auditSession.Log;
                    detector = await DetectionOptions.StartAsync(auditLog, location, rules, outputs, loggerFactory, context, ct, autoOpen: detection.AutoOpen).ConfigureAwait(false);

                    decisions = new Skjold.Server.AuditReceiver.AuditDecisionSink(auditLog);
                }
                catch (Exception ex) when (ex is ArgumentException or IOException or InvalidOperationException or FormatException or System.Security.Cryptography.CryptographicException or System.Data.Common.DbException)
                {
                    await err.WriteLineAsync($"error: audit receiver: {OptionFlags.Describe(ex, OptionFlags.Serve)}").ConfigureAwait(false);
                    return ExitCodes.UsageOrInputError;
                }
            }

            WebApplication app;
            Skjold.SupplyChain.Admission.ImageAdmission? images = null;
            try
            {
                images = await SupplyChainGate.CreateAsync(supplyChain, parse.GetValue(auditPostgres), context, ct).ConfigureAwait(false);
                app = ServerHost.Build(options, policy, cacheFactory, decisions, time: context.Time, audit: auditLog, auditOptions: receiver, detection: detector, falco: falco, images: images,
                    incidents: auditSession is not null && detector is not null ? detection.Clock(auditSession.Store, detector, context) : null);
            }
            catch (ArgumentException ex)
            {
                await err.WriteLineAsync($"error: {OptionFlags.Describe(ex, OptionFlags.Serve)}").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            labels.Cache = app.Services.GetRequiredService<INamespaceCache>();
            await app.StartAsync(ct).ConfigureAwait(false);
            Skjold.Server.ServerLog.AdmissionServing(logger, CliContext.Version, ServerHost.BoundAddress(app));
            await app.WaitForShutdownAsync(ct).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            if (decisions is not null)
            {
                await decisions.DisposeAsync().ConfigureAwait(false);
            }

            if (detector is not null)
            {
                await detector.DisposeAsync().ConfigureAwait(false); // alerts of the last batches are sealed and queued before the log closes
            }

            if (auditSession is not null)
            {
                await auditSession.DisposeAsync().ConfigureAwait(false);
            }

            images?.Service.Dispose();
            certificate.Dispose();
            return ExitCodes.Ok;
        });
        return command;
    }
}
