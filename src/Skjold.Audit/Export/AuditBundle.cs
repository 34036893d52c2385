using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Skjold.Audit.Events;
using Skjold.Audit.Merkle;
using Skjold.Audit.Signing;
using Skjold.Audit.Storage;

namespace Skjold.Audit.Export;

/// <summary>
/// An evidence bundle an auditor verifies offline: the selected events (as sealed, redacted), each
/// with its leaf index, leaf hash and inclusion proof, the signed tree head they are proven against,
/// and a signature over the whole bundle. Verification needs only the public key.
/// </summary>
public static class AuditBundle
{
    public const string Format = "skjold-audit-bundle/v1";

    public static async Task<JsonObject> ExportAsync(AuditLog log, AuditQuery query, TimeProvider time, CancellationToken ct, IProgress<long>? progress = null)
    {
        var sth = await log.SignNowAsync(ct).ConfigureAwait(false)
            ?? throw new InvalidOperationException("the audit log is empty; nothing to export");
        using var verifier = new TreeHeadVerifier(log.Keys.PublicKeyPem);
        var answer = await new Query.ConfirmedQuery(log.Store, verifier).RunAsync(query with { Limit = Math.Max(query.Limit, 1) }, payloads: true, ct).ConfigureAwait(false);
        return await BuildAsync(log, sth, answer.Rows, time, ct, progress).ConfigureAwait(false);
    }

    /// <summary>A bundle of exactly these leaves (an incident's events and the requests of its timeline).</summary>
    public static async Task<JsonObject> ExportLeavesAsync(AuditLog log, IReadOnlyCollection<long> leaves, TimeProvider time, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(leaves);
        var sth = await log.SignNowAsync(ct).ConfigureAwait(false)
            ?? throw new InvalidOperationException("the audit log is empty; nothing to export");
        var rows = new List<(AuditRecord Record, byte[]? Payload)>();
        foreach (var leaf in leaves.Distinct().Order())
        {
            await foreach (var row in log.Store.QueryAsync(new AuditQuery { FromIndex = leaf, ToIndex = leaf + 1, Limit = 1 }, true, ct).ConfigureAwait(false))
            {
                rows.Add(row);
            }
        }

        return await BuildAsync(log, sth, rows, time, ct, null).ConfigureAwait(false);
    }

    private static async Task<JsonObject> BuildAsync(AuditLog log, SignedTreeHead sth, IEnumerable<(AuditRecord Record, byte[]? Payload)> rows, TimeProvider time, CancellationToken ct, IProgress<long>? progress)
    {
        var events = new JsonArray();
        var selected = new List<(long Index, byte[] Payload)>();
        // Erased events no longer match their leaf hash: they cannot be proven in a bundle. The
        // stored leaf hashes are read 512 at a time (one store read each), not one by one.
        foreach (var chunkRows in rows.Where(r => r.Payload is not null && r.Record.Index < sth.Size).Chunk(512))
        {
            var stored = await log.Store.ReadAsync([.. chunkRows.Select(r => (0, r.Record.Index))], ct).ConfigureAwait(false);
            foreach (var (record, payload) in chunkRows)
            {
                if (MerkleHash.Leaf(payload!).AsSpan().SequenceEqual(stored[(0, record.Index)]))
                {
                    selected.Add((record.Index, payload!));
                }
            }
        }

        // Proofs in chunks: each chunk's stored hashes are one store read.
        foreach (var chunk in selected.Chunk(512))
        {
            var proofs = await MerkleTree.InclusionProofsAsync([.. chunk.Select(c => c.Index)], sth.Size, log.Store, ct).ConfigureAwait(false);
            for (var i = 0; i < chunk.Length; i++)
            {
                events.Add((JsonNode)new JsonObject
                {
                    ["index"] = chunk[i].Index,
                    ["leafHash"] = Convert.ToBase64String(MerkleHash.Leaf(chunk[i].Payload)),
                    ["proof"] = new JsonArray([.. proofs[i].Select(p => (JsonNode)Convert.ToBase64String(p))]),
                    ["event"] = JsonNode.Parse(chunk[i].Payload),
                });
            }

            progress?.Report(events.Count);
        }

        var bundle = new JsonObject
        {
            ["format"] = Format,
            ["exportedAt"] = time.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["keyId"] = log.Keys.KeyId,
            ["publicKey"] = log.Keys.PublicKeyPem,
            ["treeHead"] = TreeHead(sth),
            ["events"] = events,
        };
        bundle["signature"] = Convert.ToBase64String(log.Keys.SignData(SignedContent(bundle)));
        return bundle;
    }

    /// <summary>Verifies a bundle with the given public key only (the key inside the bundle is not trusted).</summary>
    public static VerificationReport Verify(JsonElement bundle, TreeHeadVerifier key)
    {
        var problems = new List<VerificationProblem>();
        if (!bundle.TryGetProperty("format", out var f) || f.GetString() != Format)
        {
            return new VerificationReport(0, 0, 0, 0, 0, [new VerificationProblem("format", null, $"not a {Format} bundle")]);
        }

        var node = JsonNode.Parse(bundle.GetRawText())!.AsObject();
        var signature = node["signature"]?.GetValue<string>();
        node.Remove("signature");
        if (signature is null || !key.VerifyData(SignedContent(node), Convert.FromBase64String(signature)))
        {
            problems.Add(new VerificationProblem("bundle-signature", null, "the bundle's signature is not valid for this public key: it was altered or signed by another key"));
        }

        var th = bundle.GetProperty("treeHead");
        var sth = ProofDocuments.ReadTreeHead(th);
        var headOk = key.Verify(sth);
        if (!headOk)
        {
            problems.Add(new VerificationProblem("signature", null, $"the tree head (size {sth.Size}) is not signed by this public key"));
        }

        long count = 0;
        foreach (var e in bundle.GetProperty("events").EnumerateArray())
        {
            count++;
            var index = e.GetProperty("index").GetInt64();
            var canonical = CanonicalJson.Serialize(e.GetProperty("event"));
            var leaf = MerkleHash.Leaf(canonical);
            if (!leaf.AsSpan().SequenceEqual(Convert.FromBase64String(e.GetProperty("leafHash").GetString()!)))
            {
                problems.Add(new VerificationProblem("changed", index, $"leaf {index}: the event does not match its leaf hash: it was changed"));
                continue;
            }

            var proof = e.GetProperty("proof").EnumerateArray().Select(p => Convert.FromBase64String(p.GetString()!)).ToList();
            if (!MerkleTree.VerifyInclusion(index, sth.Size, leaf, proof, sth.Root))
            {
                problems.Add(new VerificationProblem("inclusion", index, $"leaf {index}: the inclusion proof does not lead to the signed root"));
            }
        }

        return new VerificationReport(sth.Size, count, 0, headOk ? 1 : 0, 0, problems);
    }

    private static JsonObject TreeHead(SignedTreeHead sth) => ProofDocuments.TreeHead(sth);

    private static byte[] SignedContent(JsonObject bundleWithoutSignature)
    {
        using var doc = JsonDocument.Parse(bundleWithoutSignature.ToJsonString());
        return SHA256.HashData(CanonicalJson.Serialize(doc.RootElement));
    }
}
