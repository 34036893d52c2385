using Skjold.Server.Tls;

namespace Skjold.Server.Hosting;

/// <summary>Settings of <c>skjold serve</c>; validated when the host is built.</summary>
public sealed record ServeOptions
{
    /// <summary>https://address:port (port 0 picks a free one).</summary>
    public required Uri Listen { get; init; }

    public required ServerCertificate Certificate { get; init; }

    /// <summary>Largest AdmissionReview accepted; larger bodies get 413. Default 3 MiB (the API server's own limit).</summary>
    public long MaxRequestBodyBytes { get; init; } = 3L * 1024 * 1024;

    /// <summary>Deadline for one request, kept below the webhook's timeoutSeconds. Default 5 s.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Whether a request that misses the deadline is allowed (the default: never lock the cluster) or denied.</summary>
    public bool AllowOnTimeout { get; init; } = true;

    /// <summary>How long shutdown waits for in-flight requests. Default 20 s.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Serve /noop, an endpoint that answers without evaluating (the benchmark's floor).</summary>
    public bool EnableNoop { get; init; }

    /// <summary>Serve /validate and /mutate (off for a standalone audit receiver).</summary>
    public bool EnableAdmission { get; init; } = true;

    /// <summary>Throws an <see cref="ArgumentException"/> (parameter name: the property) for the first problem.</summary>
    public void Validate() => ServeOptionsValidator.Instance.ThrowIfInvalid(this);
}
