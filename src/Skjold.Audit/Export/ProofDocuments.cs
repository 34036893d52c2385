using System.Globalization;
using System.Text.Json.Nodes;
using Skjold.Audit.Merkle;
using Skjold.Audit.Signing;
using Skjold.Audit.Storage;

namespace Skjold.Audit.Export;

/// <summary>
/// Inclusion and consistency proofs as JSON documents, with the signed tree head they verify
/// against: the same documents from the command line and the HTTP API. Hashes are base64.
/// </summary>
public static class ProofDocuments
{
    private static readonly System.Text.Json.JsonSerializerOptions Compact = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly System.Text.Json.JsonSerializerOptions Indented = new(Compact) { WriteIndented = true };

    /// <summary>A proof document or bundle as text; base64 keeps its '+' (valid JSON either way, but easier to copy).</summary>
    public static string Text(JsonNode document, bool indented) => document.ToJsonString(indented ? Indented : Compact);

    public static JsonObject TreeHead(SignedTreeHead sth)
    {
        var o = new JsonObject
        {
            ["size"] = sth.Size,
            ["timestampMs"] = sth.Timestamp.ToUnixTimeMilliseconds(),
            ["timestamp"] = sth.Timestamp.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
            ["root"] = Convert.ToBase64String(sth.Root),
            ["signature"] = Convert.ToBase64String(sth.Signature),
            ["keyId"] = sth.KeyId,
        };
        if (sth.Extension is { } e)
        {
            o["version"] = 2;
            o["extension"] = Convert.ToBase64String(e);
        }

        return o;
    }

    /// <summary>Reads a tree head written by <see cref="TreeHead"/> (a bundle's, or a checkpoint file).</summary>
    public static SignedTreeHead ReadTreeHead(System.Text.Json.JsonElement th) =>
        new(th.GetProperty("size").GetInt64(),
            DateTimeOffset.FromUnixTimeMilliseconds(th.GetProperty("timestampMs").GetInt64()),
            Convert.FromBase64String(th.GetProperty("root").GetString()!),
            Convert.FromBase64String(th.GetProperty("signature").GetString()!),
            th.GetProperty("keyId").GetString()!)
        {
            Extension = th.TryGetProperty("extension", out var e) && e.ValueKind == System.Text.Json.JsonValueKind.String ? Convert.FromBase64String(e.GetString()!) : null,
        };

    /// <summary>That leaf <paramref name="index"/> is in the tree of <paramref name="head"/>; null when the leaf is not in the store.</summary>
    public static async Task<JsonObject?> InclusionAsync(IAuditReader store, long index, SignedTreeHead head, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, head.Size);
        if (!(await store.ReadAsync([(0, index)], ct).ConfigureAwait(false)).TryGetValue((0, index), out var leaf))
        {
            return null;
        }

        var proof = await MerkleTree.InclusionProofAsync(index, head.Size, store, ct).ConfigureAwait(false);
        return new JsonObject
        {
            ["index"] = index,
            ["leafHash"] = Convert.ToBase64String(leaf),
            ["proof"] = new JsonArray([.. proof.Select(p => (JsonNode)Convert.ToBase64String(p))]),
            ["treeHead"] = TreeHead(head),
            ["verified"] = MerkleTree.VerifyInclusion(index, head.Size, leaf, proof, head.Root),
        };
    }

    /// <summary>
    /// That the tree of <paramref name="head"/> extends the first <paramref name="oldSize"/> leaves
    /// unchanged (RFC 6962 consistency proof). An auditor who kept a signed tree head of that size
    /// compares its root with <c>oldRoot</c>; the store's own signed head of that size is included
    /// when it has one.
    /// </summary>
    public static async Task<JsonObject> ConsistencyAsync(IAuditReader store, long oldSize, SignedTreeHead head, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(oldSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(oldSize, head.Size);
        var oldRoot = await MerkleTree.RootAsync(oldSize, store, ct).ConfigureAwait(false);
        var proof = await MerkleTree.ConsistencyProofAsync(oldSize, head.Size, store, ct).ConfigureAwait(false);
        var signedOld = (await store.TreeHeadsAsync(ct).ConfigureAwait(false)).FirstOrDefault(h => h.Size == oldSize);
        return new JsonObject
        {
            ["oldSize"] = oldSize,
            ["oldRoot"] = Convert.ToBase64String(oldRoot),
            ["oldTreeHead"] = signedOld is null ? null : TreeHead(signedOld),
            ["proof"] = new JsonArray([.. proof.Select(p => (JsonNode)Convert.ToBase64String(p))]),
            ["treeHead"] = TreeHead(head),
            ["verified"] = MerkleTree.VerifyConsistency(oldSize, head.Size, oldRoot, head.Root, proof)
                && (signedOld is null || signedOld.Root.AsSpan().SequenceEqual(oldRoot)),
        };
    }
}
