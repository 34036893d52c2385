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

        if (text.Any(char.IsWhiteSpace))
        {
            error = "an image reference has no spaces";
            return false;
        }

        // The split and normalisation are the engine's (one reading of image names across Skjold).
        var parts = Engine.Workloads.ImageReference.Parse(text);
        if (parts.Digest is { } digest && !Engine.Workloads.ImageReference.IsValidDigest(digest))
        {
            error = $"'{digest}' is not a digest (sha256:<64 lower-case hex> or sha512:<128>)";
            return false;
        }

        if (parts.Tag is { } tag && !TagPattern().IsMatch(tag))
        {
            error = $"'{tag}' is not a valid tag";
            return false;
        }

        if (!RepositoryPattern().IsMatch(parts.Repository))
        {
            error = $"'{parts.Repository}' is not a valid repository name (lower-case path components)";
            return false;
        }

        reference = new ImageReference(parts.Registry, parts.Repository, parts.Tag ?? (parts.Digest is null ? "latest" : null), parts.Digest);
        return true;
    }

    /// <summary>Whether this image matches a pattern in the language of registries.trusted (whole path segments; * and ? within a segment).</summary>
    public bool Matches(string pattern) => new Engine.Workloads.ImageReference(Registry, Repository, Tag, Digest).IsFrom(pattern);

    public static ImageReference Parse(string text) =>
        TryParse(text, out var r, out var error) ? r! : throw new FormatException($"image reference '{text}': {error}");

    [GeneratedRegex("^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$", RegexOptions.CultureInvariant)]
    private static partial Regex RepositoryPattern();

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();
}
