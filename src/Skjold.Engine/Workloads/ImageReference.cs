namespace Skjold.Engine.Workloads;

/// <summary>
/// A container image reference split into registry, repository, tag and digest, with Docker's
/// defaults applied (<c>nginx</c> is <c>docker.io/library/nginx</c>).
/// </summary>
internal readonly record struct ImageReference(string Registry, string Repository, string? Tag, string? Digest)
{
    public string FullName => Registry + "/" + Repository;

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

        string registry;
        string repository;
        var firstSlash = rest.IndexOf('/', StringComparison.Ordinal);
        var first = firstSlash < 0 ? string.Empty : rest[..firstSlash];
        if (firstSlash > 0 && (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost"))
        {
            registry = first;
            repository = rest[(firstSlash + 1)..];
        }
        else
        {
            registry = "docker.io";
            repository = firstSlash < 0 ? "library/" + rest : rest;
        }

        return new ImageReference(registry, repository, tag, digest);
    }

    /// <summary>
    /// True when this image comes from <paramref name="trusted"/>: a registry host, or a registry and
    /// path prefix (<c>ghcr.io/acme/</c>). A prefix matches whole path segments only.
    /// </summary>
    public bool IsFrom(string trusted)
    {
        var full = FullName;
        var t = trusted.TrimEnd('/');
        if (!t.Contains('/', StringComparison.Ordinal) && !t.Contains('.', StringComparison.Ordinal) && t != "localhost")
        {
            // A bare name such as "library" is not a registry; compare against docker.io paths.
            t = "docker.io/" + t;
        }

        return full.Length > t.Length
            ? full.StartsWith(t, StringComparison.Ordinal) && full[t.Length] == '/'
            : string.Equals(full, t, StringComparison.Ordinal);
    }
}
