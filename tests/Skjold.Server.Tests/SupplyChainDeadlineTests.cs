using System.Net;
using System.Net.Sockets;
using Skjold.SupplyChain.Admission;
using Skjold.SupplyChain.Oci;
using Skjold.SupplyChain.Policy;
using Skjold.SupplyChain.Sigstore;
using Skjold.TestSupport;

namespace Skjold.Server.Tests;

/// <summary>A registry that accepts connections and never answers: the webhook still decides within its deadline, and fails closed where enforced.</summary>
public sealed class SupplyChainDeadlineTests : IAsyncLifetime
{
    private readonly TcpListener _silent = new(IPAddress.Loopback, 0);
    private readonly List<TcpClient> _held = [];
    private readonly TestSigstore _sigstore = new();
    private WebhookServer _server = null!;
    private ImageVerificationService _service = null!;

    public async Task InitializeAsync()
    {
        _silent.Start();
        _ = Task.Run(async () =>
        {
            while (true)
            {
                try
                {
                    var c = await _silent.AcceptTcpClientAsync();
                    lock (_held)
                    {
                        _held.Add(c);
                    }
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return;
                }
            }
        });
        var host = $"127.0.0.1:{((IPEndPoint)_silent.LocalEndpoint).Port}";
        var authority = new SignatureAuthority("release", VerificationPolicy.ForIdentity(IdentityMatcher.Exact(TestSigstore.DefaultIdentity), IdentityMatcher.Exact(TestSigstore.DefaultIssuer)));
        var settings = new SupplyChainSettings
        {
            TrustedRoot = _sigstore.TrustedRoot,
            // The registry timeout is longer than the webhook's deadline: the deadline must decide.
            Registry = new RegistryClientOptions { AllowHttpLoopback = true, RequestTimeout = TimeSpan.FromSeconds(30) },
            Rules =
            [
                new ImageRule("enforced", [host], ["baseline-ns"], ImageRuleMode.Enforce, false, 1, [authority], true, []),
                new ImageRule("warned", [host], [], ImageRuleMode.Warn, false, 1, [authority], true, []),
            ],
        };
        _service = new ImageVerificationService(settings);
        _server = await WebhookServer.StartAsync(requestTimeout: TimeSpan.FromSeconds(1), images: new ImageAdmission(_service));
        Host = host;
    }

    private string Host { get; set; } = "";

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _service.Dispose();
        _silent.Stop();
        lock (_held)
        {
            _held.ForEach(c => c.Dispose());
        }

        _sigstore.Dispose();
    }

    private string Pod(string image) => $$"""
        apiVersion: v1
        kind: Pod
        metadata: {name: app}
        spec:
          containers:
          - name: app
            image: {{image}}
        """;

    [Fact]
    public async Task Validate_RegistryThatHangs_DeniedWithinDeadlineWhereEnforced_WarnedElsewhere()
    {
        // The registry's own timeout (30 s) would say "no answer within 30 s"; the verdict must come from the
        // webhook's deadline (1 s) instead, and deny.
        var enforced = (await _server.ReviewAsync("/validate", WebhookServer.Review(Pod($"{Host}/apps/a:1"), "baseline-ns"))).GetProperty("response");
        Assert.False(enforced.GetProperty("allowed").GetBoolean());
        var message = enforced.GetProperty("status").GetProperty("message").GetString()!;
        Assert.Contains("deadline", message, StringComparison.Ordinal);
        Assert.DoesNotContain("within 30", message, StringComparison.Ordinal);

        var warned = (await _server.ReviewAsync("/validate", WebhookServer.Review(Pod($"{Host}/apps/b:1"), "privileged-ns"))).GetProperty("response");
        Assert.True(warned.GetProperty("allowed").GetBoolean());
        Assert.Contains(warned.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("deadline", StringComparison.Ordinal));
    }
}
