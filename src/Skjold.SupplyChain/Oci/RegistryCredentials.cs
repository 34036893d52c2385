using System.Text;
using System.Text.Json;

namespace Skjold.SupplyChain.Oci;

/// <summary>A user name and password (or identity token) for one registry.</summary>
public sealed record RegistryCredential(string Username, string Password)
{
    /// <summary>Never prints the password.</summary>
    public override string ToString() => $"{Username}:***";
}

/// <summary>
/// Registry credentials from a docker <c>config.json</c> or a Kubernetes <c>kubernetes.io/dockerconfigjson</c>
/// (<c>.dockerconfigjson</c>) or legacy <c>.dockercfg</c> secret: <c>auths.&lt;host&gt;.auth</c> (base64 user:password)
/// or <c>username</c>/<c>password</c>, or an <c>identitytoken</c>. Hosts match with or without scheme and path;
/// Docker Hub's legacy key <c>https://index.docker.io/v1/</c> counts for docker.io.
/// </summary>
public sealed class RegistryCredentials
{
    private readonly Dictionary<string, RegistryCredential> _byHost = new(StringComparer.OrdinalIgnoreCase);

    public static RegistryCredentials None { get; } = new();

    public int Count => _byHost.Count;

    public static RegistryCredentials FromDockerConfig(ReadOnlySpan<byte> json)
    {
        var result = new RegistryCredentials();
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new RegistryException($"registry credentials: not valid JSON ({e.Message})", e);
        }

        using (doc)
        {
            var root = doc.RootElement;
            var auths = root.TryGetProperty("auths", out var a) ? a : root; // .dockercfg has the hosts at the top
            if (auths.ValueKind != JsonValueKind.Object)
            {
                throw new RegistryException("registry credentials: 'auths' is not an object");
            }

            foreach (var entry in auths.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                var credential = Read(entry.Value) ?? throw new RegistryException($"registry credentials for {entry.Name}: no auth, username/password or identitytoken");
                result._byHost[Host(entry.Name)] = credential;
            }
        }

        return result;
    }

    /// <summary>
    /// From a Kubernetes Secret object (as JSON) of type <c>kubernetes.io/dockerconfigjson</c> (key
    /// <c>.dockerconfigjson</c>) or <c>kubernetes.io/dockercfg</c> (key <c>.dockercfg</c>), as imagePullSecrets are.
    /// </summary>
    public static RegistryCredentials FromSecret(JsonElement secret)
    {
        if (secret.ValueKind != JsonValueKind.Object || !secret.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object)
        {
            throw new RegistryException("registry credentials: the Secret has no data");
        }

        foreach (var key in new[] { ".dockerconfigjson", ".dockercfg" })
        {
            if (data.TryGetProperty(key, out var value) && value.GetString() is { } b64)
            {
                byte[] bytes;
                try
                {
                    bytes = Convert.FromBase64String(b64);
                }
                catch (FormatException e)
                {
                    throw new RegistryException($"registry credentials: the Secret's {key} is not base64", e);
                }

                return FromDockerConfig(bytes);
            }
        }

        throw new RegistryException("registry credentials: the Secret has neither .dockerconfigjson nor .dockercfg (type kubernetes.io/dockerconfigjson)");
    }

    public RegistryCredentials With(string host, RegistryCredential credential)
    {
        var copy = new RegistryCredentials();
        foreach (var (h, c) in _byHost)
        {
            copy._byHost[h] = c;
        }

        copy._byHost[Host(host)] = credential;
        return copy;
    }

    /// <summary>The credential for a registry host (as in an image reference), or null.</summary>
    public RegistryCredential? For(string registry)
    {
        var host = Host(registry);
        if (_byHost.TryGetValue(host, out var c))
        {
            return c;
        }

        return host is ImageReference.DockerHub or "registry-1.docker.io"
            && (_byHost.TryGetValue("index.docker.io", out c) || _byHost.TryGetValue(ImageReference.DockerHub, out c)) ? c : null;
    }

    private static RegistryCredential? Read(JsonElement e)
    {
        string? S(string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        if (S("auth") is { Length: > 0 } auth)
        {
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth));
            }
            catch (FormatException e2)
            {
                throw new RegistryException("registry credentials: an 'auth' value is not base64", e2);
            }

            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            return colon > 0 ? new RegistryCredential(decoded[..colon], decoded[(colon + 1)..]) : throw new RegistryException("registry credentials: an 'auth' value is not user:password");
        }

        if (S("identitytoken") is { Length: > 0 } token)
        {
            return new RegistryCredential("<token>", token);
        }

        return S("username") is { } u && S("password") is { } p ? new RegistryCredential(u, p) : null;
    }

    private static string Host(string key)
    {
        var k = key;
        var scheme = k.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            k = k[(scheme + 3)..];
        }

        var slash = k.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            k = k[..slash];
        }

        return k is "index.docker.io" or "registry-1.docker.io" ? ImageReference.DockerHub : k;
    }
}
