using System.Text.Json.Serialization;

namespace Skjold.Engine;

/// <summary>Source-generated serialisation for the few values the engine writes itself.</summary>
[JsonSerializable(typeof(string))]
internal sealed partial class EngineJsonContext : JsonSerializerContext;
