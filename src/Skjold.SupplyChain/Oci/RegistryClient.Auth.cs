using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Skjold.SupplyChain.Oci;

/// <summary>Registry authentication (the distribution spec's bearer token challenge, basic credentials, cached tokens) and bounded reads of responses.</summary>
public sealed partial class RegistryClient
{
    private async Task<(string Header, DateTimeOffset Expires)> AuthorizeAsync(ImageReference image, AuthenticationHeaderValue challenge, string scope, CancellationToken ct)
    {
        var credential = _options.Credentials.For(image.Registry);
        if (string.Equals(challenge.Scheme, "Basic", StringComparison.OrdinalIgnoreCase))
        {
            if (credential is null)
            {
                throw new RegistryException($"{image.Registry}: asks for a user name and password, and none is configured for it") { Status = 401 };
            }

            return ("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Password}")), DateTimeOffset.MaxValue);
        }

        if (!string.Equals(challenge.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase))
        {
            throw new RegistryException($"{image.Registry}: unsupported authentication scheme {challenge.Scheme}") { Status = 401 };
        }

        var parameters = ChallengeParameters(challenge.Parameter ?? "");
        if (!parameters.TryGetValue("realm", out var realm) || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri))
        {
            throw new RegistryException($"{image.Registry}: a Bearer challenge without a realm") { Status = 401 };
        }

        if (realmUri.Scheme != Uri.UriSchemeHttps && !(_options.AllowHttpLoopback && IsLoopback(realmUri.Authority)))
        {
            throw new RegistryException($"{image.Registry}: refused a token realm over plain HTTP ({realmUri.Authority})");
        }

        var query = new StringBuilder("?");
        if (parameters.TryGetValue("service", out var service))
        {
            query.Append("service=").Append(Uri.EscapeDataString(service)).Append('&');
        }

        query.Append("scope=").Append(Uri.EscapeDataString(parameters.TryGetValue("scope", out var s) ? s : scope));
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(realmUri, realmUri.AbsolutePath + query));
        if (credential is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Password}")));
        }

        Interlocked.Increment(ref _requests);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new RegistryException($"{image.Registry}: the token service {realmUri.Authority} answered HTTP {(int)response.StatusCode}{(credential is null ? " (no credentials configured for this registry)" : "")}") { Status = (int)response.StatusCode };
        }

        var bytes = await ReadBoundedAsync(response, 64 * 1024, $"{image.Registry} token", ct).ConfigureAwait(false);
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            var root = doc.RootElement;
            var token = (root.TryGetProperty("token", out var t) ? t.GetString() : null)
                ?? (root.TryGetProperty("access_token", out var at) ? at.GetString() : null)
                ?? throw new RegistryException($"{image.Registry}: the token response has no token");
            var lifetime = root.TryGetProperty("expires_in", out var e) && e.TryGetInt32(out var seconds) && seconds > 0 ? seconds : 60;
            return ("Bearer " + token, DateTimeOffset.UtcNow.AddSeconds(Math.Max(10, lifetime - 10)));
        }
        catch (JsonException e)
        {
            throw new RegistryException($"{image.Registry}: the token response is not JSON", e);
        }
    }

    private static Dictionary<string, string> ChallengeParameters(string parameter)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var i = 0;
        while (i < parameter.Length)
        {
            while (i < parameter.Length && (parameter[i] == ',' || parameter[i] == ' '))
            {
                i++;
            }

            var eq = parameter.IndexOf('=', i);
            if (eq < 0)
            {
                break;
            }

            var name = parameter[i..eq].Trim();
            i = eq + 1;
            string value;
            if (i < parameter.Length && parameter[i] == '"')
            {
                var end = parameter.IndexOf('"', i + 1);
                end = end < 0 ? parameter.Length : end;
                value = parameter[(i + 1)..end];
                i = end + 1;
            }
            else
            {
                var end = parameter.IndexOf(',', i);
                end = end < 0 ? parameter.Length : end;
                value = parameter[i..end].Trim();
                i = end;
            }

            result[name] = value;
        }

        return result;
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpResponseMessage response, long limit, string what, CancellationToken ct)
    {
        if (response.Content.Headers.ContentLength is { } length && length > limit)
        {
            throw new RegistryException($"{what}: {length} bytes is more than the {limit}-byte limit");
        }

        await using var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                throw new RegistryException($"{what}: more than the {limit}-byte limit");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
