using System.Text.Json.Serialization;

namespace Skjold.Server.Admission;

/// <summary>Source-generated (de)serialisation of AdmissionReview.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNameCaseInsensitive = false,
    MaxDepth = 256)]
[JsonSerializable(typeof(AdmissionReview))]
internal sealed partial class AdmissionJsonContext : JsonSerializerContext;
