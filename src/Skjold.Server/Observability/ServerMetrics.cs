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

    /// <summary>
    /// Publishes detection and forwarding: <c>skjold_alerts_total{rule,priority}</c>, and per output the
    /// queue depth, deliveries, failed attempts and alerts held back by a rate limit. Values are read
    /// from the pipeline when /metrics is scraped.
    /// </summary>
    public void AttachDetection(Skjold.Server.Detection.DetectionPipeline pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        var factory = Metrics.WithCustomRegistry(Registry);
        var raised = factory.CreateCounter("skjold_alerts_total", "Alerts raised by detection rules (and received from Falco), by rule and priority.",
            new CounterConfiguration { LabelNames = ["rule", "priority"] });
        var depth = factory.CreateGauge("skjold_alert_queue_depth", "Alerts waiting in the outbox for an output.", new GaugeConfiguration { LabelNames = ["output"] });
        var delivered = factory.CreateCounter("skjold_alert_deliveries_total", "Alerts an output confirmed delivered.", new CounterConfiguration { LabelNames = ["output"] });
        var failures = factory.CreateCounter("skjold_alert_delivery_failures_total", "Failed delivery attempts, by output.", new CounterConfiguration { LabelNames = ["output"] });
        var suppressed = factory.CreateCounter("skjold_alerts_suppressed_total", "Alerts an output's rate limit held back (counted in a summary alert).", new CounterConfiguration { LabelNames = ["output"] });
        Registry.AddBeforeCollectCallback(async cancel =>
        {
            foreach (var ((rule, priority), n) in pipeline.Raised)
            {
                raised.WithLabels(rule, Skjold.Detection.Falco.FalcoRuleSet.PriorityName(priority)).IncTo(n);
            }

            if (pipeline.Dispatcher is { } d)
            {
                await d.RefreshDepthsAsync(cancel).ConfigureAwait(false); // the gauge is what waits in the outbox now, also while an output backs off
                foreach (var (output, stats) in d.Stats)
                {
                    depth.WithLabels(output).Set(stats.Depth);
                    delivered.WithLabels(output).IncTo(stats.Delivered);
                    failures.WithLabels(output).IncTo(stats.Failures);
                    suppressed.WithLabels(output).IncTo(stats.Suppressed);
                }
            }
        });
    }

    /// <summary>
    /// Publishes the supply-chain gate: <c>skjold_image_checks_total{decision}</c> (verified, failed, unavailable,
    /// exempt), <c>skjold_image_verification_cache_hits_total</c>, <c>skjold_image_verifications_total</c> (registry
    /// lookups) and <c>skjold_image_registry_unavailable_total</c> (registry not reachable in time).
    /// </summary>
    public void AttachSupplyChain(Skjold.SupplyChain.Policy.ImageVerificationService service)
    {
        ArgumentNullException.ThrowIfNull(service);
        var factory = Metrics.WithCustomRegistry(Registry);
        ImageChecks = factory.CreateCounter("skjold_image_checks_total", "Images checked at admission by the supply-chain policy, by decision.", new CounterConfiguration { LabelNames = ["decision"] });
        var hits = factory.CreateCounter("skjold_image_verification_cache_hits_total", "Image verdicts answered from the verification cache (local or shared).");
        var lookups = factory.CreateCounter("skjold_image_verifications_total", "Image signature verifications that asked the registry.");
        var unavailable = factory.CreateCounter("skjold_image_registry_unavailable_total", "Image checks the registry could not answer in time (denied where enforced).");
        Registry.AddBeforeCollectCallback(() =>
        {
            hits.IncTo(service.Stats.CacheHits + service.Stats.SharedHits);
            lookups.IncTo(service.Stats.Verifications);
            unavailable.IncTo(service.Stats.Unavailable);
        });
    }

    /// <summary>Publishes the incident clocks: open incidents, seconds left per deadline (negative: overdue), overdue deadlines.</summary>
    public void AttachIncidents(Skjold.Server.Incidents.IncidentClockWatcher watcher)
    {
        ArgumentNullException.ThrowIfNull(watcher);
        var factory = Metrics.WithCustomRegistry(Registry);
        var open = factory.CreateGauge("skjold_incidents_open", "Open incidents (drills excluded).");
        var overdue = factory.CreateGauge("skjold_incident_deadlines_overdue", "GDPR and NIS2 deadlines of open incidents that have passed.");
        var left = factory.CreateGauge("skjold_incident_deadline_seconds", "Seconds until each deadline of an open incident (negative when overdue).", new GaugeConfiguration { LabelNames = ["incident", "regime"] });
        Registry.AddBeforeCollectCallback(() =>
        {
            open.Set(watcher.OpenIncidents);
            overdue.Set(watcher.Overdue);
            foreach (var d in watcher.Deadlines)
            {
                left.WithLabels(d.Incident, d.Regime).Set(d.SecondsLeft);
            }
        });
    }

    /// <summary>Image checks by decision; null until a supply-chain policy is attached.</summary>
    public Counter? ImageChecks { get; private set; }

    public CollectorRegistry Registry { get; }

    public Counter Requests { get; }

    public Counter Violations { get; }

    public Histogram Duration { get; }

    public Counter BadRequests { get; }

    public Gauge NamespaceCacheReady { get; }
}
