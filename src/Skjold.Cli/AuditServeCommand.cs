using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Skjold.Engine.Policy;
using Skjold.Server.AuditReceiver;
using Skjold.Server.Hosting;
using Skjold.Kubernetes.Watch;
using Skjold.Server.Tls;

namespace Skjold.Cli;

/// <summary><c>skjold audit serve</c>: the audit webhook receiver on its own.</summary>
internal static class AuditServeCommand
{
    public static Command Create(CliContext context)
    {
        var store = new AuditStoreOptions();
        var listen = new Option<string>("--listen") { Description = "HTTPS address to listen on", DefaultValueFactory = _ => "https://0.0.0.0:8444" };
        var selfSigned = new Option<bool>("--self-signed") { Description = "Generate a serving certificate and print the CA (caBundle)" };
        var tlsCert = new Option<string?>("--tls-cert") { Description = "PEM certificate file (reloaded when it changes)" };
        var tlsKey = new Option<string?>("--tls-key") { Description = "PEM private key file" };
        var tokenFile = new Option<string?>("--token-file") { Description = "File holding the bearer token the API server sends" };
        var clientCa = new Option<string?>("--client-ca") { Description = "PEM CA that issues the API server's client certificate" };
        var queryTokenFile = new Option<string?>("--query-token-file") { Description = "Also serve the read API (GET /audit/events, GET /audit/proof/INDEX) to holders of the bearer token in this file" };
        var command = new Command("serve", "Receive the API server's audit webhook at POST /audit and seal every batch before answering 200; optionally serve queries and proofs.")
        {
            listen, selfSigned, tlsCert, tlsKey, tokenFile, clientCa, queryTokenFile,
        };
        store.AddTo(command);
        var detection = new DetectionOptions("--detect-rules", withConfig: true);
        detection.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            if (!detection.TryLoad(parse, context, null, out var rules, out var outputs))
            {
                return ExitCodes.UsageOrInputError;
            }

            if (!Uri.TryCreate(parse.GetValue(listen), UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
            {
                await context.Error.WriteLineAsync("error: --listen must be an https:// URL").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            AuditReceiverOptions receiver;
            Skjold.Server.Detection.FalcoReceiverOptions? falco;
            try
            {
                receiver = ReceiverOptions(parse.GetValue(tokenFile), parse.GetValue(clientCa), parse.GetValue(queryTokenFile), context);
                receiver.Validate();
                falco = detection.Falco(parse, context);
                falco?.Validate();
            }
            catch (Exception ex) when (ex is ArgumentException or IOException or System.Security.Cryptography.CryptographicException)
            {
                await context.Error.WriteLineAsync($"error: {OptionFlags.Describe(ex, OptionFlags.AuditServe)}").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(Skjold.Server.Observability.JsonLinesLoggerProvider.StandardOutput()));
            var logger = loggerFactory.CreateLogger("skjold.audit");
            var certificate = await Certificate(new ServingCertificateSettings
            {
                SelfSigned = parse.GetValue(selfSigned),
                Service = "skjold-audit",
                CertificateFile = parse.GetValue(tlsCert),
                KeyFile = parse.GetValue(tlsKey),
            }, context, logger).ConfigureAwait(false);
            if (certificate is null)
            {
                return ExitCodes.UsageOrInputError;
            }

            Skjold.Audit.AuditLogSession session;
            try
            {
                session = await store.OpenLogAsync(parse, context, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or System.Data.Common.DbException)
            {
                await context.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            await using var opened = session;
            var detector = await DetectionOptions.StartAsync(session.Log, store.Location(parse, context), rules, outputs, loggerFactory, context, ct, autoOpen: detection.AutoOpen).ConfigureAwait(false);
            var options = new ServeOptions { Listen = uri, Certificate = certificate, EnableAdmission = false };
            var app = ServerHost.Build(options, ScanPolicy.Default, _ => new FileNamespaceCache(), time: context.Time, audit: session.Log, auditOptions: receiver, detection: detector, falco: falco,
                incidents: detection.Clock(session.Store, detector, context));
            await app.StartAsync(ct).ConfigureAwait(false);
            Skjold.Server.ServerLog.AuditReceiverServing(logger, ServerHost.BoundAddress(app), session.Store.Description);
            await app.WaitForShutdownAsync(ct).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            await detector.DisposeAsync().ConfigureAwait(false); // alerts of the last batches are sealed and queued before the log closes

            certificate.Dispose();
            return ExitCodes.Ok;
        });
        return command;
    }

    internal static AuditReceiverOptions ReceiverOptions(string? tokenFile, string? clientCa, string? queryTokenFile, CliContext context) => new()
    {
        Token = tokenFile is null ? null : File.ReadAllText(Path.GetFullPath(tokenFile, context.WorkingDirectory)).Trim(),
        QueryToken = queryTokenFile is null ? null : File.ReadAllText(Path.GetFullPath(queryTokenFile, context.WorkingDirectory)).Trim(),
        ClientCa = clientCa is null ? null : X509Certificate2.CreateFromPemFile(Path.GetFullPath(clientCa, context.WorkingDirectory)),
    };

    /// <summary>The serving certificate of serve and audit serve; null after a one-line error.</summary>
    internal static async Task<ServerCertificate?> Certificate(ServingCertificateSettings settings, CliContext context, ILogger logger)
    {
        try
        {
            var resolved = settings with
            {
                CertificateFile = settings.CertificateFile is { } c ? Path.GetFullPath(c, context.WorkingDirectory) : null,
                KeyFile = settings.KeyFile is { } k ? Path.GetFullPath(k, context.WorkingDirectory) : null,
            };
            var (certificate, caBundle) = resolved.Create(logger, context.Time);
            if (caBundle is not null)
            {
                await context.Out.WriteLineAsync($"caBundle: {caBundle}").ConfigureAwait(false);
            }

            return certificate;
        }
        catch (ArgumentException ex)
        {
            await context.Error.WriteLineAsync($"error: {OptionFlags.Describe(ex, OptionFlags.Certificate)}").ConfigureAwait(false);
            return null;
        }
    }
}
