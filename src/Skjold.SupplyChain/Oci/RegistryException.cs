namespace Skjold.SupplyChain.Oci;

/// <summary>A registry request that failed: unreachable, refused, too large, timed out or malformed. The message names the registry and what was asked.</summary>
public sealed class RegistryException : Exception
{
    public RegistryException(string message) : base(message)
    {
    }

    public RegistryException(string message, Exception inner) : base(message, inner)
    {
    }

    public RegistryException()
    {
    }

    /// <summary>The HTTP status when the registry answered, else null (unreachable or timed out).</summary>
    public int? Status { get; init; }

    /// <summary>True when the registry could not be reached or did not answer in time.</summary>
    public bool Unreachable { get; init; }
}
