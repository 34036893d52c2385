using System.Text.RegularExpressions;

namespace Skjold.SupplyChain.Oci;

/// <summary>
/// An image reference as the container runtimes read it: [registry[:port]/]repository[:tag][@sha256:digest].
/// Without a registry (no dot, colon or "localhost" in the first part) it is Docker Hub's, and a one-part
/// repository there is under library/. Without tag or digest the tag is latest.
/// </summary>
public sealed partial record ImageReference(string Registry, string Repository, string? Tag, string? Digest)
{
    public const string DockerHub = "docker.io";

    /// <summary>The host the distribution API answers on (Docker Hub's API is registry-1.docker.io).</summary>
    public string ApiHost => Registry == DockerHub ? "registry-1.docker.io" : Registry;

    /// <summary>The tag or digest to ask the registry for: the digest when both are given.</summary>
    public string Reference => Digest ?? Tag ?? "latest";

    public ImageReference WithDigest(string digest) => this with { Digest = digest };

    /// <summary>registry/repository@digest: what a pod should run once verified.</summary>
    public string Pinned(string digest) => $"{Registry}/{Repository}@{digest}";

    public override string ToString() =>
        $"{Registry}/{Repository}{(Tag is null ? "" : ":" + Tag)}{(Digest is null ? "" : "@" + Digest)}";

    public static bool TryParse(string? text, out ImageReference? reference, out string? error)
    {
        reference = null;
        error = null;
        if (string.IsNullOrWhiteSpace(text) || text.Length > 1024)
        {
            error = "an image reference must be 1 to 1024 characters";
            return false;
        }

        var rest = text;
        string? digest = null;
        var at = rest.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            digest = rest[(at + 1)..];
            rest = rest[..at];
            if (!DigestPattern().IsMatch(digest))
            {
                error = $"'{digest}' is not a digest (algorithm:hex, e.g. sha256:<64 hex>)";
                return false;
            }
        }

        string registry = DockerHub;
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0)
        {
            var first = rest[..slash];
            if (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost" || first.Any(char.IsUpper))
            {
                registry = first == "index.docker.io" ? DockerHub : first;
                rest = rest[(slash + 1)..];
            }
        }

        string? tag = null;
        var colon = rest.LastIndexOf(':');
        if (colon >= 0)
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
            if (!TagPattern().IsMatch(tag))
            {
                error = $"'{tag}' is not a valid tag";
                return false;
            }
        }

        if (registry == DockerHub && !rest.Contains('/', StringComparison.Ordinal))
        {
            rest = "library/" + rest;
        }

        if (!RepositoryPattern().IsMatch(rest))
        {
            error = $"'{rest}' is not a valid repository name (lower-case path components)";
            return false;
        }

        reference = new ImageReference(registry, rest, tag ?? (digest is null ? "latest" : null), digest);
        return true;
    }

    public static ImageReference Parse(string text) =>
        TryParse(text, out var r, out var error) ? r! : throw new FormatException($"image reference '{text}': {error}");

    [GeneratedRegex("^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$", RegexOptions.CultureInvariant)]
    private static partial Regex RepositoryPattern();

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();

    [GeneratedRegex("^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$", RegexOptions.CultureInvariant)]
    private static partial Regex DigestPattern();
}
