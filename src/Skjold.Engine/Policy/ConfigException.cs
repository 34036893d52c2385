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

    /// <summary>Every problem of the file, in the order found (this one alone when it is a single problem).</summary>
    public IReadOnlyList<ConfigException> Errors => _errors ?? [this];

    private IReadOnlyList<ConfigException>? _errors;

    /// <summary>One exception for several problems: the first's message and location, with the count, and all of them in <see cref="Errors"/>.</summary>
    public static ConfigException Of(IReadOnlyList<ConfigException> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Count == 1)
        {
            return errors[0];
        }

        var first = errors[0];
        var all = first.Location is { } at
            ? new ConfigException($"{first.Detail} (and {errors.Count - 1} more problems)", at)
            : new ConfigException($"{first.Message} (and {errors.Count - 1} more problems)");
        all._errors = errors;
        return all;
    }

    public string? Detail { get; }
}
