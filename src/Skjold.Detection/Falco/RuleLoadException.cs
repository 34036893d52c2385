namespace Skjold.Detection.Falco;

/// <summary>A rule file that cannot be loaded as Falco would: the message names the file, line and item.</summary>
public sealed class RuleLoadException(string message) : Exception(message)
{
    public RuleLoadException()
        : this("invalid rule file")
    {
    }

    public RuleLoadException(string message, Exception inner)
        : this(message) => _ = inner;
}
