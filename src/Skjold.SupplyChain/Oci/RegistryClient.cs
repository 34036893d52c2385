using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Skjold.SupplyChain.Oci;

/// <summary>
/// A client for the OCI distribution API: resolve tags to digests (HEAD, then GET), fetch manifests, indexes
/// and blobs (each checked against its digest and bounded in size), list referrers (the referrers API, with
/// the <c>sha256-&lt;hex&gt;</c> tag schema as fallback), and push blobs and manifests. Authenticates with the
/// registry's Bearer token challenge or HTTP Basic, using <see cref="RegistryClientOptions.Credentials"/>.
/// HTTPS only, except plain HTTP to a loopback registry when <see cref="RegistryClientOptions.AllowHttpLoopback"/>
/// is set. Redirects are followed by hand: at most a few, never to plain HTTP, and credentials never go to
/// another host. Every failure is a <see cref="RegistryException"/> naming the registry.
/// </summary>
public sealed partial class RegistryClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly RegistryClientOptions _options;
    private readonly ConcurrentDictionary<string, (string Header, DateTimeOffset Expires)> _auth = new(StringComparer.Ordinal);

    /// <summary>The HTTP requests this client has sent (for metrics and tests of caching).</summary>
    public long Requests => Interlocked.Read(ref _requests);

    private long _requests;

    /// <summary>Uses <paramref name="http"/> as given; its handler must not follow redirects itself.</summary>
    public RegistryClient(HttpClient http, RegistryClientOptions? options = null)
    {
        _http = http;
        _options = options ?? new RegistryClientOptions();
    }

    /// <summary>A client with its own handler (no automatic redirects, no cookies); <paramref name="trust"/> adds CA certificates for private registries.</summary>
    public RegistryClient(RegistryClientOptions? options = null, System.Security.Cryptography.X509Certificates.X509Certificate2Collection? trust = null)
        : this(new HttpClient(Handler(trust)) { Timeout = Timeout.InfiniteTimeSpan }, options)
    {
        _ownsHttp = true;
    }

    private static SocketsHttpHandler Handler(System.Security.Cryptography.X509Certificates.X509Certificate2Collection? trust)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        if (trust is { Count: > 0 })
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, chain, errors) =>
            {
                if (errors == System.Net.Security.SslPolicyErrors.None)
                {
                    return true;
                }

                if (cert is null || (errors & ~System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors) != 0)
                {
                    return false;
                }

                using var custom = new System.Security.Cryptography.X509Certificates.X509Chain();
                custom.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
                custom.ChainPolicy.CustomTrustStore.AddRange(trust);
                custom.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
                return custom.Build(System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(cert.GetRawCertData()));
            };
        }

        return handler;
    }

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    /// <summary>The digest a tag (or digest) names now, and its media type.</summary>
    public Task<(string Digest, string MediaType)> ResolveAsync(ImageReference image, CancellationToken ct)
    {
        return GuardAsync(image, async ct =>
        {
            if (image.Digest is { } pinned)
            {
                var m = await GetManifestAsync(image, pinned, ct).ConfigureAwait(false);
                return (pinned, m.MediaType);
            }

            using (var head = await SendAsync(image, HttpMethod.Head, $"manifests/{image.Reference}", accept: OciMediaTypes.ManifestAccept, body: null, push: false, ct).ConfigureAwait(false))
            {
                if (head.IsSuccessStatusCode && head.Headers.TryGetValues("Docker-Content-Digest", out var values) && values.FirstOrDefault() is { } d && IsSha256(d))
                {
                    return (d, head.Content.Headers.ContentType?.MediaType ?? OciMediaTypes.ImageManifest);
                }

                if (head.StatusCode == HttpStatusCode.NotFound)
                {
                    throw new RegistryException($"{image}: not found in {image.Registry}") { Status = 404 };
                }
            }

            var manifest = await GetManifestAsync(image, image.Reference, ct).ConfigureAwait(false);
            return (manifest.Digest, manifest.MediaType);
        }, ct);
    }

    /// <summary>A manifest or index by tag or digest; its bytes are checked against the digest asked for (or the one the registry states).</summary>
    public async Task<Manifest> GetManifestAsync(ImageReference image, string reference, CancellationToken ct) =>
        await TryGetManifestAsync(image, reference, ct).ConfigureAwait(false)
        ?? throw new RegistryException($"{image.Registry}/{image.Repository}: manifest {reference} not found") { Status = 404 };

    /// <summary>As <see cref="GetManifestAsync"/>, null when the registry says 404.</summary>
    public Task<Manifest?> TryGetManifestAsync(ImageReference image, string reference, CancellationToken ct)
    {
        return GuardAsync(image, async ct =>
        {
            using var response = await SendAsync(image, HttpMethod.Get, $"manifests/{reference}", OciMediaTypes.ManifestAccept, null, false, ct).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            Ensure(response, image, $"manifest {reference}");
            var bytes = await ReadBoundedAsync(response, _options.MaxManifestBytes, $"{image.Registry}/{image.Repository} manifest {reference}", ct).ConfigureAwait(false);
            var digest = Sha256Digest(bytes);
            if (IsSha256(reference) && !string.Equals(reference, digest, StringComparison.Ordinal))
            {
                throw new RegistryException($"{image.Registry}/{image.Repository}: the manifest served for {reference} has digest {digest}");
            }

            if (response.Headers.TryGetValues("Docker-Content-Digest", out var stated) && stated.FirstOrDefault() is { } s && IsSha256(s) && s != digest)
            {
                throw new RegistryException($"{image.Registry}/{image.Repository}: the registry states digest {s} for {reference} but the content is {digest}");
            }

            return Manifest.Parse(digest, response.Content.Headers.ContentType?.MediaType, bytes);
        }, ct);
    }

    /// <summary>A blob, checked against its digest.</summary>
    public Task<byte[]> GetBlobAsync(ImageReference image, string digest, CancellationToken ct)
    {
        return GuardAsync(image, async ct =>
        {
            if (!IsSha256(digest))
            {
                throw new RegistryException($"unsupported digest {digest} (Skjold reads sha256 digests)");
            }

            using var response = await SendAsync(image, HttpMethod.Get, $"blobs/{digest}", "*/*", null, false, ct).ConfigureAwait(false);
            Ensure(response, image, $"blob {digest}");
            var bytes = await ReadBoundedAsync(response, _options.MaxBlobBytes, $"{image.Registry}/{image.Repository} blob {digest}", ct).ConfigureAwait(false);
            if (Sha256Digest(bytes) != digest)
            {
                throw new RegistryException($"{image.Registry}/{image.Repository}: blob {digest} does not match its digest");
            }

            return bytes;
        }, ct);
    }

    /// <summary>
    /// The manifests that name <paramref name="digest"/> as their subject: the referrers API when the registry has
    /// it, else the index tagged <c>sha256-&lt;hex&gt;</c> (the OCI 1.1 tag schema). Filtered by artifact type when given.
    /// </summary>
    public Task<IReadOnlyList<Descriptor>> ReferrersAsync(ImageReference image, string digest, string? artifactType, CancellationToken ct)
    {
        return GuardAsync<IReadOnlyList<Descriptor>>(image, async ct =>
        {
            var query = artifactType is null ? "" : "?artifactType=" + Uri.EscapeDataString(artifactType);
            Manifest? index = null;
            using (var response = await SendAsync(image, HttpMethod.Get, $"referrers/{digest}{query}", OciMediaTypes.ImageIndex, null, false, ct).ConfigureAwait(false))
            {
                if (response.IsSuccessStatusCode && response.Content.Headers.ContentType?.MediaType == OciMediaTypes.ImageIndex)
                {
                    var bytes = await ReadBoundedAsync(response, _options.MaxManifestBytes, $"{image.Registry}/{image.Repository} referrers of {digest}", ct).ConfigureAwait(false);
                    index = Manifest.Parse(Sha256Digest(bytes), OciMediaTypes.ImageIndex, bytes);
                }
                else if (response.StatusCode is not (HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed or HttpStatusCode.BadRequest) && !response.IsSuccessStatusCode)
                {
                    Ensure(response, image, $"referrers of {digest}");
                }
            }

            index ??= await TryGetManifestAsync(image, FallbackTag(digest), ct).ConfigureAwait(false);
            if (index is null || !index.IsIndex)
            {
                return [];
            }

            var result = new List<Descriptor>();
            foreach (var m in index.Manifests)
            {
                if (artifactType is null || m.ArtifactType == artifactType)
                {
                    result.Add(m);
                }
            }

            return result;
        }, ct);
    }

    /// <summary>The referrers tag schema: sha256:abc... becomes sha256-abc....</summary>
    public static string FallbackTag(string digest) => digest.Replace(':', '-');

    /// <summary>Uploads a blob (monolithic POST then PUT) unless the registry has it; returns its digest.</summary>
    public Task<string> PushBlobAsync(ImageReference image, byte[] bytes, CancellationToken ct)
    {
        return GuardAsync(image, async ct =>
        {
            var digest = Sha256Digest(bytes);
            using (var head = await SendAsync(image, HttpMethod.Head, $"blobs/{digest}", "*/*", null, true, ct).ConfigureAwait(false))
            {
                if (head.IsSuccessStatusCode)
                {
                    return digest;
                }
            }

            string location;
            using (var start = await SendAsync(image, HttpMethod.Post, "blobs/uploads/", null, null, true, ct).ConfigureAwait(false))
            {
                Ensure(start, image, "blob upload");
                location = start.Headers.Location?.ToString() ?? throw new RegistryException($"{image.Registry}: blob upload without a Location");
            }

            var separator = location.Contains('?', StringComparison.Ordinal) ? '&' : '?';
            var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var put = await SendAsync(image, HttpMethod.Put, $"{location}{separator}digest={Uri.EscapeDataString(digest)}", null, content, true, ct).ConfigureAwait(false);
            Ensure(put, image, $"blob {digest}");
            return digest;
        }, ct);
    }

    /// <summary>Uploads a manifest under a tag or its digest; returns its digest.</summary>
    public Task<string> PushManifestAsync(ImageReference image, string reference, string mediaType, byte[] bytes, CancellationToken ct)
    {
        return GuardAsync(image, async ct =>
        {
            var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
            using var put = await SendAsync(image, HttpMethod.Put, $"manifests/{reference}", null, content, true, ct).ConfigureAwait(false);
            Ensure(put, image, $"manifest {reference}");
            return Sha256Digest(bytes);
        }, ct);
    }

    public static string Sha256Digest(ReadOnlySpan<byte> bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static bool IsSha256(string s) => s.Length == 71 && s.StartsWith("sha256:", StringComparison.Ordinal);

    private static void Ensure(HttpResponseMessage response, ImageReference image, string what)
    {
        if (!response.IsSuccessStatusCode)
        {
            var status = (int)response.StatusCode;
            var hint = status == 401 ? " (authentication failed: check the pull secret or docker config)" : status == 403 ? " (access denied)" : "";
            throw new RegistryException($"{image.Registry}/{image.Repository}: {what}: HTTP {status}{hint}") { Status = status };
        }
    }

    private Uri BaseUri(ImageReference image)
    {
        var host = image.ApiHost;
        var scheme = _options.AllowHttpLoopback && IsLoopback(host) ? "http" : "https";
        return new Uri($"{scheme}://{host}/v2/{image.Repository}/");
    }

    private static bool IsLoopback(string hostPort)
    {
        var host = Uri.TryCreate("http://" + hostPort, UriKind.Absolute, out var u) ? u.Host : hostPort;
        return host == "localhost" || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
    }

    private async Task<HttpResponseMessage> SendAsync(ImageReference image, HttpMethod method, string path, string? accept, HttpContent? body, bool push, CancellationToken ct)
    {
        var uri = Uri.TryCreate(path, UriKind.Absolute, out var abs) && abs.Scheme.StartsWith("http", StringComparison.Ordinal) ? abs : new Uri(BaseUri(image), path);
        var scope = $"repository:{image.Repository}:{(push ? "pull,push" : "pull")}";
        var authKey = $"{image.ApiHost}|{scope}";
        var bufferedBody = body is null ? null : await body.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
        var bodyType = body?.Headers.ContentType;
        body?.Dispose();
        {
            var triedAuth = false;
            for (var hop = 0; ; hop++)
            {
                using var request = new HttpRequestMessage(method, uri);
                if (accept is not null)
                {
                    request.Headers.TryAddWithoutValidation("Accept", accept);
                }

                if (bufferedBody is not null)
                {
                    request.Content = new ByteArrayContent(bufferedBody);
                    request.Content.Headers.ContentType = bodyType;
                }

                var sameHost = string.Equals(uri.Authority, image.ApiHost, StringComparison.OrdinalIgnoreCase);
                if (sameHost && _auth.TryGetValue(authKey, out var cached) && cached.Expires > DateTimeOffset.UtcNow)
                {
                    request.Headers.TryAddWithoutValidation("Authorization", cached.Header);
                }

                Interlocked.Increment(ref _requests);
                var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.Unauthorized && sameHost && !triedAuth)
                {
                    triedAuth = true;
                    var challenge = response.Headers.WwwAuthenticate.FirstOrDefault();
                    response.Dispose();
                    if (challenge is null)
                    {
                        throw new RegistryException($"{image.Registry}: HTTP 401 without a WWW-Authenticate challenge") { Status = 401 };
                    }

                    var header = await AuthorizeAsync(image, challenge, scope, ct).ConfigureAwait(false);
                    _auth[authKey] = (header.Header, header.Expires);
                    hop--;
                    continue;
                }

                if ((int)response.StatusCode is 301 or 302 or 303 or 307 or 308 && response.Headers.Location is { } location)
                {
                    response.Dispose();
                    if (hop >= _options.MaxRedirects)
                    {
                        throw new RegistryException($"{image.Registry}: more than {_options.MaxRedirects} redirects");
                    }

                    var next = location.IsAbsoluteUri ? location : new Uri(uri, location);
                    if (next.Scheme != Uri.UriSchemeHttps && !(next.Scheme == Uri.UriSchemeHttp && _options.AllowHttpLoopback && IsLoopback(next.Authority)))
                    {
                        throw new RegistryException($"{image.Registry}: refused a redirect to {next.Scheme}://{next.Authority} (HTTPS only)");
                    }

                    uri = next;
                    continue;
                }

                return response;
            }
        }
    }

    /// <summary>Runs one operation (its requests and body reads) under the request timeout, turning transport failures into <see cref="RegistryException"/>.</summary>
    private async Task<T> GuardAsync<T>(ImageReference image, Func<CancellationToken, Task<T>> operation, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.RequestTimeout);
        try
        {
            return await operation(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new RegistryException($"{image.Registry}: no answer within {_options.RequestTimeout.TotalSeconds:0.#} s", e) { Unreachable = true };
        }
        catch (HttpRequestException e)
        {
            throw new RegistryException($"{image.Registry}: unreachable ({e.Message})", e) { Unreachable = true };
        }
        catch (IOException e)
        {
            throw new RegistryException($"{image.Registry}: connection failed ({e.Message})", e) { Unreachable = true };
        }
    }

}
