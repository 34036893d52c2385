using Skjold.Engine.Model;

namespace Skjold.Engine.Policy;

/// <summary>An invalid skjold.yaml: the message names the key, the location names file and line.</summary>
public sealed class ConfigException : Exception
{
    public ConfigException(string message, SourceLocation location)
        : base($"{location}: {message}")
    {
        Location = location;
        Detail = message;
    }

    public ConfigException()
    {
    }

    public ConfigException(string message)
        : base(message)
    {
    }

    public ConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public SourceLocation? Location { get; }

    public string? Detail { get; }
}
