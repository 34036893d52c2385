using System.Collections.Frozen;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Skjold.Engine.Admission;
using Skjold.Server.Hosting;
using Skjold.Kubernetes.Watch;
using Skjold.Server.Observability;

namespace Skjold.Server.Admission;

/// <summary>
/// Serves /validate and /mutate: reads the AdmissionReview under a size limit, answers malformed
/// requests with 400 and a reason, looks up the namespace's policy under the request deadline,
/// evaluates, and answers in the request's API version. Logs one structured line per decision
/// (never the object), counts metrics, and hands the decision to the audit sink.
/// </summary>
public sealed partial class AdmissionHandler(
    AdmissionEvaluator evaluator,
    INamespaceCache namespaces,
    ServerMetrics metrics,
    IAdmissionDecisionSink sink,
    ServeOptions options,
    TimeProvider time,
    ILogger<AdmissionHandler> logger,
    Skjold.SupplyChain.Admission.ImageAdmission? images = null)
{
    public async Task HandleAsync(HttpContext context, bool mutate)
    {
        var endpoint = mutate ? "mutate" : "validate";
        var started = Stopwatch.GetTimestamp();
        var (status, review, error) = await ReadAsync(context).ConfigureAwait(false);
        if (review is null)
        {
            metrics.BadRequests.WithLabels(status == 413 ? "too-large" : "malformed").Inc();
            ServerLog.AdmissionBadRequest(logger, endpoint, status, error!);
            context.Response.StatusCode = status;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync(error!, context.RequestAborted).ConfigureAwait(false);
            return;
        }

        var request = review.Request!;
        var input = ToInput(request);
        AdmissionVerdict verdict;
        // The decision deadline runs on the handler's clock (TimeProvider), as everything else does.
        using (var timeout = new CancellationTokenSource(options.RequestTimeout, time))
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, timeout.Token))
        {
            try
            {
                verdict = await DecideAsync(input, mutate, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
            {
                ServerLog.AdmissionTimeout(logger, input.Uid, endpoint, options.RequestTimeout.TotalSeconds);
                verdict = new AdmissionVerdict(
                    options.AllowOnTimeout, "timeout",
                    options.AllowOnTimeout ? null : $"Skjold could not decide within {options.RequestTimeout.TotalSeconds:0.#} s",
                    options.AllowOnTimeout ? [$"skjold: no decision within {options.RequestTimeout.TotalSeconds:0.#} s; allowed by policy"] : [],
                    new Dictionary<string, string> { ["decision"] = "timeout" }, []);
            }
        }

        var response = new AdmissionResponse
        {
            Uid = input.Uid,
            Allowed = verdict.Allowed,
            // The verdict's own collections when they have the response's types (the verdict is not used after this).
            Warnings = verdict.Warnings.Count > 0 ? verdict.Warnings as List<string> ?? [.. verdict.Warnings] : null,
            AuditAnnotations = verdict.AuditAnnotations.Count > 0 ? verdict.AuditAnnotations as Dictionary<string, string> ?? new Dictionary<string, string>(verdict.AuditAnnotations) : null,
        };
        if (!verdict.Allowed)
        {
            response.Status = new ResponseStatus { Code = 403, Reason = "Forbidden", Message = verdict.Message };
        }

        if (mutate && verdict.Patch is { } patch)
        {
            response.Patch = Convert.ToBase64String(patch);
            response.PatchType = "JSONPatch";
        }

        var reply = new AdmissionReview { ApiVersion = review.ApiVersion, Kind = "AdmissionReview", Response = response };
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, reply, AdmissionJsonContext.Default.AdmissionReview, context.RequestAborted).ConfigureAwait(false);

        var elapsed = Stopwatch.GetElapsedTime(started);
        Observe(endpoint, input, verdict, elapsed);
    }

    /// <summary>The benchmark floor: parses the review and answers allowed, without evaluating.</summary>
    public async Task HandleNoopAsync(HttpContext context)
    {
        var (status, review, error) = await ReadAsync(context).ConfigureAwait(false);
        if (review is null)
        {
            context.Response.StatusCode = status;
            await context.Response.WriteAsync(error!, context.RequestAborted).ConfigureAwait(false);
            return;
        }

        var reply = new AdmissionReview
        {
            ApiVersion = review.ApiVersion,
            Kind = "AdmissionReview",
            Response = new AdmissionResponse { Uid = review.Request!.Uid!, Allowed = true },
        };
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, reply, AdmissionJsonContext.Default.AdmissionReview, context.RequestAborted).ConfigureAwait(false);
    }

    private async ValueTask<AdmissionVerdict> DecideAsync(AdmissionInput input, bool mutate, CancellationToken ct)
    {
        // Only a create of a namespace not yet known is remembered, and only provisionally: this
        // request may still be refused, and an update (or a create of an existing namespace, which
        // storage will refuse) must never change what the API says the namespace's labels are.
        if (input.Kind == "Namespace" && input.Operation == "CREATE" && input.SubResource is null && !input.DryRun && input.Name is { } nsName)
        {
            namespaces.ObserveCreate(nsName, NamespacePolicy.Labels(input.Object));
        }

        NamespacePolicy policy;
        if (input.Namespace is { Length: > 0 } ns)
        {
            var labels = await namespaces.GetLabelsAsync(ns, ct).ConfigureAwait(false);
            policy = NamespacePolicy.From(ns, labels, evaluator.Settings);
        }
        else
        {
            policy = NamespacePolicy.From(string.Empty, null, evaluator.Settings);
        }

        ct.ThrowIfCancellationRequested();
        var verdict = mutate ? evaluator.Mutate(input, policy) : evaluator.Validate(input, policy);
        if (images is null || !verdict.Allowed || !NeedsImageCheck(input, mutate ? null : verdict.Decision))
        {
            return verdict;
        }

        var gate = await images.CheckAsync(input.Kind, input.Object, input.Namespace, mutate, ct).ConfigureAwait(false);
        foreach (var c in gate.Checks)
        {
            if (c.Decision != Skjold.SupplyChain.Policy.ImageDecision.NotCovered)
            {
                metrics.ImageChecks?.WithLabels(c.Decision.ToString().ToLowerInvariant()).Inc();
            }
        }

        return SupplyChainVerdict.Merge(verdict, gate);
    }

    /// <summary>
    /// Whether the supply-chain gate looks at a request: creates and updates of objects with a pod spec (and a
    /// pod's ephemeral containers), not from an exempt namespace or user, and on /validate not an update that
    /// leaves the spec alone. On /mutate the gate runs whatever the namespace's mutation label: pinning to a
    /// digest is opted into by the supply-chain rule itself (mutateDigest).
    /// </summary>
    private bool NeedsImageCheck(AdmissionInput input, string? validateDecision)
    {
        if (input.Operation is not ("CREATE" or "UPDATE") || (input.SubResource is { } sub && sub != "ephemeralcontainers"))
        {
            return false;
        }

        var settings = evaluator.Settings;
        if ((input.Namespace is { } n && settings.ExemptNamespaces.Contains(n)) || settings.ExemptUsernames.Contains(input.Username))
        {
            return false;
        }

        return validateDecision is not (AdmissionVerdict.DecisionUnchanged or AdmissionVerdict.DecisionIgnored);
    }

    private async ValueTask<(int Status, AdmissionReview? Review, string? Error)> ReadAsync(HttpContext context)
    {
        var limit = options.MaxRequestBodyBytes;
        using var body = await Hosting.BoundedBody.ReadAsync(context.Request, limit, context.RequestAborted).ConfigureAwait(false);
        if (body.TooLarge)
        {
            return (413, null, body.DeclaredLength is { } length
                ? $"request body of {length} bytes exceeds the limit of {limit} bytes"
                : $"request body exceeds the limit of {limit} bytes");
        }

        return Parse(body.Span);
    }

    internal static (int Status, AdmissionReview? Review, string? Error) Parse(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return (400, null, "empty request body; expected an AdmissionReview");
        }

        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            return (400, null, "request body is not valid UTF-8; expected an AdmissionReview in JSON");
        }

        AdmissionReview? review;
        try
        {
            review = JsonSerializer.Deserialize(body, AdmissionJsonContext.Default.AdmissionReview);
        }
        catch (JsonException ex)
        {
            return (400, null, $"request body is not a valid AdmissionReview: {ex.Message}");
        }

        if (review is null)
        {
            return (400, null, "request body is null; expected an AdmissionReview");
        }

        if (review.Kind != "AdmissionReview" || review.ApiVersion is not ("admission.k8s.io/v1" or "admission.k8s.io/v1beta1"))
        {
            return (400, null, $"expected kind AdmissionReview in admission.k8s.io/v1 or v1beta1, got kind '{review.Kind}' apiVersion '{review.ApiVersion}'");
        }

        if (review.Request is not { } request)
        {
            return (400, null, "AdmissionReview has no request");
        }

        if (string.IsNullOrEmpty(request.Uid))
        {
            return (400, null, "AdmissionReview request has no uid");
        }

        if (string.IsNullOrEmpty(request.Operation) || request.Kind?.Kind is null)
        {
            return (400, null, "AdmissionReview request needs operation and kind");
        }

        if (request.Operation is "CREATE" or "UPDATE" && request.Object.ValueKind != JsonValueKind.Object)
        {
            return (400, null, $"AdmissionReview request.object must be a JSON object for {request.Operation}");
        }

        // JsonElement properties are deserialised into documents of their own, independent of the
        // pooled body buffer, so they stay valid after it is returned.
        return (200, review, null);
    }

    /// <summary>Operations the API server sends; anything else is counted as "other" so clients cannot grow the metrics.</summary>
    private static string OperationLabel(string operation) => operation is "CREATE" or "UPDATE" or "DELETE" or "CONNECT" ? operation : "other";

    /// <summary>
    /// The kind the request is about, from its resource (group and resource, as the API server
    /// routed it) when Skjold knows the resource, else the request's kind. Neither the object's own
    /// kind field nor a request kind that disagrees with the resource decides.
    /// </summary>
    internal static string KindOf(AdmissionRequest r)
    {
        if (r.Resource?.Resource is { Length: > 0 } resource
            && Engine.Rbac.ApiResources.BuiltIn.Resolve(resource, r.Resource.Group ?? string.Empty, Engine.Pss.PssVersion.NewestKnownMinor) is { Kind: { } kind })
        {
            return kind;
        }

        return r.Kind!.Kind!;
    }

    /// <summary>Kinds Skjold knows are counted by name, others as "other" (the label set stays bounded).</summary>
    private static string KindLabel(string kind) => KnownKinds.Contains(kind) ? kind : "other";

    private static readonly FrozenSet<string> KnownKinds =
        Engine.Rbac.ApiResources.BuiltIn.All.Where(a => a.Kind is not null).Select(a => a.Kind!).ToFrozenSet(StringComparer.Ordinal);

    private static AdmissionInput ToInput(AdmissionRequest r) => new(
        r.Uid!,
        r.Operation!,
        KindOf(r),
        r.Resource?.Resource ?? string.Empty,
        string.IsNullOrEmpty(r.SubResource) ? null : r.SubResource,
        string.IsNullOrEmpty(r.Namespace) ? null : r.Namespace,
        string.IsNullOrEmpty(r.Name) ? null : r.Name,
        r.UserInfo?.Username ?? string.Empty,
        r.UserInfo?.Groups ?? [],
        r.DryRun ?? false,
        r.Object,
        r.OldObject);

    private void Observe(string endpoint, AdmissionInput input, AdmissionVerdict verdict, TimeSpan elapsed)
    {
        metrics.Requests.WithLabels(endpoint, OperationLabel(input.Operation), KindLabel(input.Kind), verdict.Decision).Inc();
        metrics.Duration.WithLabels(endpoint).Observe(elapsed.TotalSeconds);
        var checks = verdict.Findings.Select(f => f.CheckId).Distinct(StringComparer.Ordinal).ToList();
        foreach (var (check, mode) in verdict.Violations)
        {
            metrics.Violations.WithLabels(check, mode).Inc();
        }

        var name = input.Name ?? Engine.Model.Json.GetString(Engine.Model.Json.Get(input.Object, "metadata"u8), "generateName");
        ServerLog.AdmissionDecision(logger, input.Uid, endpoint, input.Operation, input.Kind, input.Namespace, name, input.Username, input.DryRun,
            verdict.Decision, verdict.Allowed, string.Join(",", checks), elapsed.TotalMilliseconds);
        if (!input.DryRun)
        {
            sink.Record(new AdmissionDecisionRecord(time.GetUtcNow(), input.Uid, endpoint, input.Operation, input.Kind, input.Namespace, name,
                input.Username, verdict.Allowed, verdict.Decision, checks, verdict.Mutations));
        }
    }
}
