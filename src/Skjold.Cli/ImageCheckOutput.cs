using System.Text.Json.Nodes;
using Skjold.SupplyChain.Policy;

namespace Skjold.Cli;

/// <summary>verify-image's output: one line pair per image in a table, or a JSON array with every signature looked at.</summary>
internal static class ImageCheckOutput
{
    public static void Write(CliContext context, string format, List<ImageCheck> checks)
    {
        if (format == "json")
        {
            var array = new JsonArray();
            foreach (var c in checks)
            {
                var signatures = new JsonArray();
                foreach (var s in c.Signatures)
                {
                    signatures.Add((JsonNode)new JsonObject
                    {
                        ["layout"] = s.Layout,
                        ["verified"] = s.Verified,
                        ["identity"] = s.Identity,
                        ["issuer"] = s.Issuer,
                        ["key"] = s.Key,
                        ["predicateType"] = s.PredicateType,
                        ["signedAt"] = s.SignedAt?.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                        ["failure"] = s.Failure,
                    });
                }

                array.Add((JsonNode)new JsonObject
                {
                    ["image"] = c.Image,
                    ["digest"] = c.Digest,
                    ["decision"] = c.Decision.ToString().ToLowerInvariant(),
                    ["rule"] = c.Rule?.Name,
                    ["message"] = c.Message,
                    ["signatures"] = signatures,
                });
            }

            context.Out.WriteLine(array.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            return;
        }

        foreach (var c in checks)
        {
            var mark = c.Decision switch
            {
                ImageDecision.Verified => "VERIFIED",
                ImageDecision.Exempt => "EXEMPT",
                ImageDecision.NotCovered => "NOT COVERED",
                ImageDecision.Unavailable => "UNAVAILABLE",
                _ => "FAILED",
            };
            context.Out.WriteLine($"{mark,-12} {c.Image}{(c.Digest is { } d && c.Reference?.Digest is null ? "@" + d : "")}");
            context.Out.WriteLine($"             {c.Message}");
        }
    }
}
