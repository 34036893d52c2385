using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Skjold.Engine.Admission;
using Skjold.Engine.Policy;
using Skjold.Kubernetes.Watch;
using Skjold.Server.Admission;
using Skjold.Server.Hosting;
using Skjold.Server.Observability;
using Skjold.Server.Tls;

namespace Skjold.Benchmarks;

/// <summary>
/// One /validate request through the whole handler without the network: body read, parse, namespace
/// lookup, deadline, evaluation, response, metrics and the JSON decision log line (formatted as in
/// production, written to a discarding console), against /noop on the same handler (the floor).
/// </summary>
[MemoryDiagnoser]
public class AdmissionHandlerBenchmarks
{
    private byte[] _body = [];
    private AdmissionHandler _handler = null!;
    private ILoggerFactory _loggers = null!;
    private string _dir = string.Empty;

    /// <summary>How decisions are logged: Skjold's JSON lines (production), the console logger's JSON formatter (before), or not at all.</summary>
    [Params("jsonlines", "console", "none")]
    public string Log { get; set; } = "jsonlines";

    [GlobalSetup]
    public void Setup()
    {
        _body = Encoding.UTF8.GetBytes(WebhookLoad.ReviewJson.Replace("UID", "bench", StringComparison.Ordinal));
        _dir = Directory.CreateTempSubdirectory("skjold-handler-bench-").FullName;
        var nsFile = Path.Combine(_dir, "ns.yaml");
        File.WriteAllText(nsFile, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: payments\n  labels: {pod-security.kubernetes.io/enforce: restricted}\n");
        Console.SetOut(TextWriter.Null);
        _loggers = LoggerFactory.Create(b =>
        {
            if (Log == "console")
            {
                b.AddJsonConsole(o =>
                {
                    o.UseUtcTimestamp = true;
                    o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                });
            }
            else
            {
                b.AddProvider(new JsonLinesLoggerProvider(Stream.Null));
            }
        });
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var cert = new CertificateRequest("CN=bench", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        var options = new ServeOptions { Listen = new Uri("https://127.0.0.1:0"), Certificate = ServerCertificate.FromCertificate(cert, _loggers.CreateLogger("tls")) };
        _handler = new AdmissionHandler(new AdmissionEvaluator(ScanPolicy.Default), new FileNamespaceCache(nsFile), new ServerMetrics(), new NullDecisionSink(),
            options, TimeProvider.System, Log != "none" ? _loggers.CreateLogger<AdmissionHandler>() : Microsoft.Extensions.Logging.Abstractions.NullLogger<AdmissionHandler>.Instance);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _loggers.Dispose();
        Directory.Delete(_dir, true);
    }

    private DefaultHttpContext Context()
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.ContentType = "application/json";
        context.Request.ContentLength = _body.Length;
        context.Request.Body = new MemoryStream(_body, writable: false);
        context.Response.Body = Stream.Null;
        return context;
    }

    /// <summary>admission-allocations [N]: what one /validate request allocates, by type (sampled), and the total.</summary>
    public static async Task<int> PrintAllocationsAsync(int requests)
    {
        var bench = new AdmissionHandlerBenchmarks { Log = "jsonlines" };
        var console = Console.Out;
        bench.Setup();
        Console.SetOut(console);
        for (var i = 0; i < 2000; i++)
        {
            await bench.Validate();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        using (var sampler = new AllocationSampler())
        {
            for (var i = 0; i < requests; i++)
            {
                await bench.Validate();
            }

            sampler.Print(requests);
        }

        Console.WriteLine($"  {(GC.GetAllocatedBytesForCurrentThread() - before) / requests:N0} bytes per request on the request's thread (sampler included)");
        bench.Cleanup();
        return 0;
    }

    [Benchmark(Baseline = true)]
    public Task Noop() => _handler.HandleNoopAsync(Context());

    [Benchmark]
    public Task Validate() => _handler.HandleAsync(Context(), mutate: false);
}
