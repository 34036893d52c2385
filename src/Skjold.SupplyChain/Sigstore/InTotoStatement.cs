using System.Text.Json;

namespace Skjold.SupplyChain.Sigstore;

/// <summary>An in-toto statement (v0.1 or v1): the artifact must be one of its subjects, by SHA-256.</summary>
internal static class InTotoStatement
{
    /// <summary>Checks the subject; returns the predicate type.</summary>
    public static string? CheckSubject(byte[] payload, Artifact artifact)
    {
        using var doc = JsonDocument.Parse(payload, new JsonDocumentOptions { MaxDepth = 64 });
        var root = doc.RootElement;
        var type = BundleParser.Str(root, "_type");
        if (type is not ("https://in-toto.io/Statement/v1" or "https://in-toto.io/Statement/v0.1"))
        {
            throw new SigstoreException($"the DSSE payload is not an in-toto statement (_type {type ?? "missing"})");
        }

        if (!root.TryGetProperty("subject", out var subjects) || subjects.ValueKind != JsonValueKind.Array)
        {
            throw new SigstoreException("the in-toto statement has no subjects");
        }

        var hex = artifact.Hex;
        foreach (var s in subjects.EnumerateArray())
        {
            if (BundleParser.Obj(s, "digest") is { } d && BundleParser.Str(d, "sha256") is { } sha
                && string.Equals(sha, hex, StringComparison.OrdinalIgnoreCase))
            {
                return BundleParser.Str(root, "predicateType");
            }
        }

        throw new SigstoreException($"the artifact (sha256:{hex}) is not a subject of the in-toto statement");
    }
}
