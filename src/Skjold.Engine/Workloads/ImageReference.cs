namespace Skjold.Engine.Workloads;

/// <summary>
/// A container image reference split into registry, repository, tag and digest, normalised as the
/// container runtime resolves it: Docker Hub's aliases (<c>index.docker.io</c>,
/// <c>registry-1.docker.io</c>) are <c>docker.io</c>, and a one-part Docker Hub repository is in
/// <c>library/</c> (<c>nginx</c> and <c>docker.io/nginx</c> are <c>docker.io/library/nginx</c>).
/// A host with a port (<c>localhost:5000</c>, <c>registry:5000</c>) is a registry.
/// </summary>
public readonly record struct ImageReference(string Registry, string Repository, string? Tag, string? Digest)
{
    private static readonly string[] DockerHubAliases = ["docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"];

    public string FullName => Registry + "/" + Repository;

    /// <summary>Whether the digest is well formed: sha256 with 64 or sha512 with 128 lower-case hex digits (the OCI registered algorithms).</summary>
    public bool HasValidDigest => Digest is { } d && IsValidDigest(d);

    public static ImageReference Parse(string image)
    {
        var rest = image.Trim();
        string? digest = null;
        var at = rest.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            digest = rest[(at + 1)..];
            rest = rest[..at];
        }

        string? tag = null;
        var lastSlash = rest.LastIndexOf('/');
        var colon = rest.LastIndexOf(':');
        if (colon > lastSlash)
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
        }

        var (registry, repository) = SplitRegistry(rest);
        return new ImageReference(registry, repository, tag, digest);
    }

    /// <summary>"ghcr.io/acme/app" is (ghcr.io, acme/app); "nginx" is (docker.io, library/nginx).</summary>
    private static (string Registry, string Repository) SplitRegistry(string name)
    {
        var firstSlash = name.IndexOf('/', StringComparison.Ordinal);
        var first = firstSlash < 0 ? string.Empty : name[..firstSlash];
        string registry, repository;
        if (firstSlash > 0 && IsRegistryHost(first))
        {
            registry = first.ToLowerInvariant();
            repository = name[(firstSlash + 1)..];
        }
        else
        {
            registry = "docker.io";
            repository = name;
        }

        if (DockerHubAliases.Contains(registry, StringComparer.Ordinal))
        {
            registry = "docker.io";
            if (!repository.Contains('/', StringComparison.Ordinal))
            {
                repository = "library/" + repository;
            }
        }

        return (registry, repository);
    }

    private static bool IsRegistryHost(string segment) =>
        segment.Contains('.', StringComparison.Ordinal) || segment.Contains(':', StringComparison.Ordinal) || segment == "localhost";

    public static bool IsValidDigest(string digest)
    {
        var colon = digest.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return false;
        }

        var length = digest[..colon] switch
        {
            "sha256" => 64,
            "sha512" => 128,
            _ => -1,
        };
        var hex = digest.AsSpan(colon + 1);
        if (hex.Length != length)
        {
            return false;
        }

        foreach (var c in hex)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// True when this image comes from <paramref name="trusted"/>: a registry host
    /// (<c>registry.example.com</c>, <c>localhost:5000</c>), a registry and path prefix
    /// (<c>ghcr.io/acme</c>), a Docker Hub namespace (<c>bitnami</c>), or a pattern where <c>*</c>
    /// is any run of characters within one path segment and <c>?</c> one character
    /// (<c>ghcr.io/acme/*</c>, <c>*.azurecr.io</c>). An entry matches whole path segments from the
    /// start of the reference, never inside a segment, so <c>*.azurecr.io</c> does not match
    /// <c>evil.example/x.azurecr.io/app</c>. Both sides are normalised first; <c>docker.io/nginx</c>
    /// means the namespace nginx or the official image library/nginx.
    /// </summary>
    public bool IsFrom(string trusted)
    {
        var full = FullName;
        foreach (var t in NormaliseTrusted(trusted))
        {
            for (var end = full.IndexOf('/', StringComparison.Ordinal); ; end = full.IndexOf('/', end + 1))
            {
                var prefix = end < 0 ? full : full[..end];
                if (Glob(prefix, t))
                {
                    return true;
                }

                if (end < 0)
                {
                    break;
                }
            }
        }

        return false;
    }

    /// <summary>A trusted entry in the same form as <see cref="FullName"/> (two forms for an ambiguous docker.io/NAME).</summary>
    public static IEnumerable<string> NormaliseTrusted(string trusted)
    {
        var t = trusted.Trim().TrimEnd('/');
        var firstSlash = t.IndexOf('/', StringComparison.Ordinal);
        var first = firstSlash < 0 ? t : t[..firstSlash];
        if (!IsRegistryHost(first))
        {
            // A bare name such as "bitnami" or "library" is a Docker Hub namespace.
            yield return "docker.io/" + t;
            yield break;
        }

        var registry = first.ToLowerInvariant();
        var path = firstSlash < 0 ? string.Empty : t[(firstSlash + 1)..];
        if (DockerHubAliases.Contains(registry, StringComparer.Ordinal))
        {
            registry = "docker.io";
            if (path.Length > 0 && !path.Contains('/', StringComparison.Ordinal) && path != "library")
            {
                yield return "docker.io/library/" + path; // docker.io/nginx: the official image
            }
        }

        yield return path.Length == 0 ? registry : registry + "/" + path;
    }

    /// <summary>Characters allowed in a trusted registry entry (host, port, path and the * and ? wildcards).</summary>
    public static bool IsValidTrustedEntry(string entry)
    {
        foreach (var c in entry)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '/' or ':' or '*' or '?'))
            {
                return false;
            }
        }

        return entry.Length > 0;
    }

    /// <summary>Glob match of a whole text: * is any run of characters other than '/', ? is one character other than '/'.</summary>
    private static bool Glob(string text, string pattern)
    {
        int t = 0, p = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] != '*' && (pattern[p] == text[t] || (pattern[p] == '?' && text[t] != '/')))
            {
                t++;
                p++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0 && text[mark] != '/')
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
