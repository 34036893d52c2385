using System.Text.Json.Serialization;
using Skjold.Audit;

namespace Skjold.Cli;

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(VerificationReport))]
[JsonSerializable(typeof(Dictionary<string, object>))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(VersionInfo))]
internal sealed partial class CliJsonContext : JsonSerializerContext
{
    /// <summary>The same contracts, without escaping '+' and non-ASCII text in output meant for people and tools.</summary>
    private static readonly Lazy<System.Text.Json.JsonSerializerOptions> LazyRelaxed = new(() => new()
    {
        TypeInfoResolver = Default,
        WriteIndented = true,
        PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    // Lazy: static initialisers of the generated half of this partial class may run after ours.
    public static System.Text.Json.JsonSerializerOptions Relaxed => LazyRelaxed.Value;
}
