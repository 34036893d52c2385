using Prometheus;

namespace Skjold.Server.Observability;

/// <summary>Prometheus metrics of one server instance (its own registry, so tests can run several hosts).</summary>
public sealed class ServerMetrics
{
    public ServerMetrics()
    {
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        Requests = factory.CreateCounter("skjold_admission_requests_total", "Admission requests by endpoint, operation, kind and decision.",
            new CounterConfiguration { LabelNames = ["endpoint", "operation", "kind", "decision"] });
        Violations = factory.CreateCounter("skjold_admission_violations_total", "Check violations seen at admission, by check and mode.",
            new CounterConfiguration { LabelNames = ["check", "mode"] });
        Duration = factory.CreateHistogram("skjold_admission_request_duration_seconds", "Time to answer an admission request, from body read to response.",
            new HistogramConfiguration
            {
                LabelNames = ["endpoint"],
                Buckets = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
            });
        BadRequests = factory.CreateCounter("skjold_admission_bad_requests_total", "Requests rejected before evaluation, by reason.",
            new CounterConfiguration { LabelNames = ["reason"] });
        NamespaceCacheReady = factory.CreateGauge("skjold_namespace_cache_ready", "1 once namespace labels are synced from the API server.");
    }

    public CollectorRegistry Registry { get; }

    public Counter Requests { get; }

    public Counter Violations { get; }

    public Histogram Duration { get; }

    public Counter BadRequests { get; }

    public Gauge NamespaceCacheReady { get; }
}
