using System.Net;

namespace Skjold.Incidents;

/// <summary>What a responder names when opening an incident: a target, or for unauthorized access one user, service account or source address.</summary>
public sealed record IncidentTargetInput(string? Target, string? User = null, string? ServiceAccount = null, string? SourceIp = null);

/// <summary>Turns what a responder typed into the incident's target, with a reason when it does not fit the incident type.</summary>
public static class IncidentTargetParser
{
    /// <summary>The target of an incident of <paramref name="type"/>, or null with <paramref name="error"/> saying what is wrong.</summary>
    public static IncidentTarget? Parse(IncidentType type, IncidentTargetInput input, out string? error)
    {
        error = null;
        if (type == IncidentType.UnauthorizedAccess)
        {
            return Principal(input, out error);
        }

        var target = input.Target;
        if (target is null)
        {
            error = $"{IncidentTypes.Name(type)} needs a target";
            return null;
        }

        var slash = target.IndexOf('/', StringComparison.Ordinal);
        if (type == IncidentType.NodeCompromise)
        {
            error = slash < 0 ? null : "a node is named without a namespace";
            return slash < 0 ? new IncidentTarget("node", null, target) : null;
        }

        if (slash <= 0 || slash == target.Length - 1)
        {
            error = $"the target is NAMESPACE/NAME, not '{target}'";
            return null;
        }

        return new IncidentTarget(type == IncidentType.SecretExposed ? "secret" : "pod", target[..slash], target[(slash + 1)..]);
    }

    private static IncidentTarget? Principal(IncidentTargetInput input, out string? error)
    {
        error = null;
        var given = new[] { input.User, input.ServiceAccount, input.SourceIp }.Count(x => x is not null);
        if (given != 1 || input.Target is not null)
        {
            error = "unauthorized-access names exactly one user, service account (NAMESPACE/NAME) or source IP address, and no other target";
            return null;
        }

        if (input.ServiceAccount is { } sa)
        {
            var slash = sa.IndexOf('/', StringComparison.Ordinal);
            if (slash <= 0 || slash == sa.Length - 1)
            {
                error = $"a service account is NAMESPACE/NAME, not '{sa}'";
                return null;
            }

            return new IncidentTarget("serviceaccount", sa[..slash], sa[(slash + 1)..]);
        }

        if (input.SourceIp is { } address)
        {
            if (!IsAddress(address))
            {
                error = $"'{address}' is not an IP address";
                return null;
            }

            return new IncidentTarget("source-ip", null, address);
        }

        return new IncidentTarget("user", null, input.User!);
    }

    /// <summary>
    /// An IPv4 address in dotted-quad form or an IPv6 address. IPAddress.TryParse alone also takes
    /// "10" (0.0.0.10) and "10.1" (10.0.0.1), which would name a different client than the one typed.
    /// </summary>
    private static bool IsAddress(string text)
    {
        if (text.Contains(':', StringComparison.Ordinal))
        {
            return IPAddress.TryParse(text, out var v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        }

        var parts = text.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length is >= 1 and <= 3 && p.All(char.IsAsciiDigit) && int.Parse(p, System.Globalization.CultureInfo.InvariantCulture) <= 255);
    }
}
