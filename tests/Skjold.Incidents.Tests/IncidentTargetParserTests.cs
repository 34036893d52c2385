using Skjold.Incidents;

namespace Skjold.Incidents.Tests;

public sealed class IncidentTargetParserTests
{
    [Theory]
    [InlineData(IncidentType.PodCompromise, "payments/ledger-0", "pod", "payments", "ledger-0")]
    [InlineData(IncidentType.SecretExposed, "shop/db", "secret", "shop", "db")]
    [InlineData(IncidentType.NodeCompromise, "worker-3", "node", null, "worker-3")]
    public void Targets_AreReadAsTheirKind(IncidentType type, string text, string kind, string? ns, string name)
    {
        var target = IncidentTargetParser.Parse(type, new(text), out var error);
        Assert.Null(error);
        Assert.Equal(new IncidentTarget(kind, ns, name), target);
    }

    [Theory]
    [InlineData(IncidentType.PodCompromise, null, "needs a target")]
    [InlineData(IncidentType.PodCompromise, "ledger-0", "NAMESPACE/NAME")]
    [InlineData(IncidentType.PodCompromise, "/ledger-0", "NAMESPACE/NAME")]
    [InlineData(IncidentType.SecretExposed, "shop/", "NAMESPACE/NAME")]
    [InlineData(IncidentType.NodeCompromise, "kube-system/worker-3", "without a namespace")]
    public void MalformedTargets_AreRefusedWithTheReason(IncidentType type, string? text, string reason)
    {
        Assert.Null(IncidentTargetParser.Parse(type, new(text), out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void UnauthorizedAccess_NamesExactlyOnePrincipal()
    {
        Assert.Equal(new IncidentTarget("user", null, "mallory"), IncidentTargetParser.Parse(IncidentType.UnauthorizedAccess, new(null, User: "mallory"), out _));
        Assert.Equal(new IncidentTarget("serviceaccount", "ci", "deployer"), IncidentTargetParser.Parse(IncidentType.UnauthorizedAccess, new(null, ServiceAccount: "ci/deployer"), out _));
        Assert.Equal(new IncidentTarget("source-ip", null, "2001:db8::7"), IncidentTargetParser.Parse(IncidentType.UnauthorizedAccess, new(null, SourceIp: "2001:db8::7"), out _));
        Assert.Null(IncidentTargetParser.Parse(IncidentType.UnauthorizedAccess, new(null, User: "mallory", SourceIp: "10.0.0.7"), out var two));
        Assert.Contains("exactly one", two, StringComparison.Ordinal);
        Assert.Null(IncidentTargetParser.Parse(IncidentType.UnauthorizedAccess, new("payments/x", User: "mallory"), out _));
        Assert.Null(IncidentTargetParser.Parse(IncidentType.UnauthorizedAccess, new(null), out _));
    }

    [Theory]
    [InlineData("ci/")]
    [InlineData("/deployer")]
    [InlineData("deployer")]
    public void AServiceAccountWithoutNamespaceOrName_IsRefused(string sa)
    {
        // "ci/" used to open an incident about a service account with an empty name.
        Assert.Null(IncidentTargetParser.Parse(IncidentType.UnauthorizedAccess, new(null, ServiceAccount: sa), out var error));
        Assert.Contains("NAMESPACE/NAME", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10")]
    [InlineData("10.1")]
    [InlineData("10.0.1")]
    [InlineData("10.0.0.256")]
    [InlineData("0x0a.0.0.1")]
    [InlineData("10.0.0.1/32")]
    [InlineData("example.com")]
    public void SourceAddresses_AreTakenOnlyInFullForm(string address)
    {
        // IPAddress.TryParse reads "10" as 0.0.0.10 and "10.1" as 10.0.0.1: a different client than the one typed.
        Assert.Null(IncidentTargetParser.Parse(IncidentType.UnauthorizedAccess, new(null, SourceIp: address), out var error));
        Assert.Contains("not an IP address", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ADottedQuad_IsTaken() =>
        Assert.Equal(new IncidentTarget("source-ip", null, "10.0.0.7"), IncidentTargetParser.Parse(IncidentType.UnauthorizedAccess, new(null, SourceIp: "10.0.0.7"), out _));
}
