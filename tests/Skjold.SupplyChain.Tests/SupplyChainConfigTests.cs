using Microsoft.Extensions.Time.Testing;
using Skjold.Engine.Policy;
using Skjold.SupplyChain.Oci;
using Skjold.SupplyChain.Policy;
using Skjold.TestSupport;

namespace Skjold.SupplyChain.Tests;

/// <summary>The supplyChain: section of skjold.yaml: what it accepts, and every problem named with file and line.</summary>
public sealed class SupplyChainConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-sc-").FullName;
    private readonly TestSigstore _sigstore = new();

    public SupplyChainConfigTests()
    {
        File.WriteAllText(Path.Combine(_dir, "trusted_root.json"), _sigstore.TrustedRootJson);
        using var key = TestSigstore.NewKey();
        File.WriteAllText(Path.Combine(_dir, "cosign.pub"), TestSigstore.PublicKeyPem(key));
    }

    public void Dispose()
    {
        _sigstore.Dispose();
        Directory.Delete(_dir, true);
    }

    private SupplyChainSettings Parse(string yaml) => SupplyChainConfig.Parse(yaml, "skjold.yaml", _dir);

    private const string Valid = """
        apiVersion: skjold.io/v1
        kind: Config
        supplyChain:
          trustedRoot: trusted_root.json
          timeout: 2s
          cache: {ttl: 5m, size: 500}
          images:
            - name: payments
              images: ["registry.example.com/payments"]
              namespaces: ["payments", "prod-*"]
              mutateDigest: true
              identities:
                - issuer: https://token.actions.githubusercontent.com
                  subjectRegExp: https://github\.com/acme/payments/.+
              keys: [cosign.pub]
              attestations:
                - predicateType: https://slsa.dev/provenance/v1
                  builder: https://github.com/actions/runner
            - name: tools
              images: [ghcr.io/acme]
              mode: warn
              transparencyLog: false
              keys: [cosign.pub]
          exemptions:
            - images: [registry.example.com/payments/legacy]
              namespaces: [payments]
              reason: vendor image, signed from 2027 (ticket SEC-412)
              expires: 2027-03-31
        """;

    [Fact]
    public void Parse_ValidSection_ReadsRulesAndExemptions()
    {
        var s = Parse(Valid);
        Assert.NotNull(s.TrustedRoot);
        Assert.Equal(TimeSpan.FromSeconds(2), s.Registry.RequestTimeout);
        Assert.Equal(TimeSpan.FromMinutes(5), s.CacheTtl);
        Assert.Equal(2, s.Rules.Count);
        var payments = s.Rules[0];
        Assert.Equal(ImageRuleMode.Enforce, payments.Mode);
        Assert.True(payments.MutateDigest);
        Assert.Equal(2, payments.Authorities.Count);
        Assert.Equal("https://github.com/actions/runner", payments.Attestations.Single().Builder);
        Assert.Equal(ImageRuleMode.Warn, s.Rules[1].Mode);
        Assert.False(s.Rules[1].TransparencyLog);
        Assert.Equal(new DateOnly(2027, 3, 31), s.Exemptions.Single().Expires);
    }

    [Fact]
    public void Match_ExemptionThenRuleByNamespace()
    {
        var s = Parse(Valid);
        var today = new DateOnly(2026, 12, 2);
        var legacy = ImageReference.Parse("registry.example.com/payments/legacy:1");
        Assert.NotNull(ImagePolicy.Match(s, legacy, "payments", today).Exemption);
        Assert.Equal("payments", ImagePolicy.Match(s, legacy, "prod-eu", today).Rule?.Name);
        Assert.Null(ImagePolicy.Match(s, legacy, "payments", new DateOnly(2027, 4, 1)).Exemption); // expired: the rule applies again
        Assert.Equal("payments", ImagePolicy.Match(s, legacy, "payments", new DateOnly(2027, 4, 1)).Rule?.Name);
        Assert.Null(ImagePolicy.Match(s, ImageReference.Parse("registry.example.com/payments/api:1"), "dev", today).Rule);
        // Patterns match whole path segments: payments-evil is not under payments.
        Assert.Null(ImagePolicy.Match(s, ImageReference.Parse("registry.example.com/payments-evil/api:1"), "payments", today).Rule);
        Assert.Equal("tools", ImagePolicy.Match(s, ImageReference.Parse("ghcr.io/acme/kubectl:1.31"), "anything", today).Rule?.Name);
    }

    [Fact]
    public void Parse_Problems_AllReportedWithLines()
    {
        var yaml = """
            supplyChain:
              images:
                - name: Bad_Name
                  images: []
                  identities:
                    - issuer: https://accounts.google.com
                - name: nokey
                  images: [registry.example.com]
                  keys: [missing.pub]
                  colour: blue
              exemptions:
                - images: [registry.example.com/x]
                  expires: someday
            """;
        var e = Assert.Throws<ConfigException>(() => Parse(yaml));
        var messages = e.Errors.Select(x => x.Message).ToList();
        Assert.Contains(messages, m => m.Contains("Bad_Name", StringComparison.Ordinal) && m.Contains("skjold.yaml:3", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("names the images it covers", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("subject (exact) or subjectRegExp", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("trustedRoot, which is not set", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("missing.pub", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("unknown key 'colour'", StringComparison.Ordinal) && m.Contains("skjold.yaml:10", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("needs a reason", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("'someday' must be a date", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_KeylessWithoutLog_Refused()
    {
        var yaml = """
            supplyChain:
              trustedRoot: trusted_root.json
              images:
                - name: x
                  images: [registry.example.com]
                  transparencyLog: false
                  identities: [{issuer: https://a.example, subject: me@example.com}]
            """;
        var e = Assert.Throws<ConfigException>(() => Parse(yaml));
        Assert.Contains("offline keys only", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MalformedTrustedRoot_NamedError()
    {
        File.WriteAllText(Path.Combine(_dir, "broken.json"), "{\"tlogs\": [{\"publicKey\": {}}]}");
        var e = Assert.Throws<ConfigException>(() => Parse("supplyChain:\n  trustedRoot: broken.json\n"));
        Assert.Contains("broken.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EngineConfig_AcceptsSupplyChainSection()
    {
        var policy = ConfigParser.Parse(Valid, "skjold.yaml", Engine.Checks.CheckCatalog.Default);
        Assert.NotNull(policy);
    }

    [Fact]
    public void Cache_BoundedAndExpiring()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var cache = new VerificationCache<string>(2, clock);
        cache.Set("a", "1", TimeSpan.FromMinutes(1));
        cache.Set("b", "2", TimeSpan.FromMinutes(1));
        cache.Set("c", "3", TimeSpan.FromMinutes(1));
        Assert.Equal(2, cache.Count);
        Assert.False(cache.TryGet("a", out _));
        Assert.True(cache.TryGet("c", out _));
        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.False(cache.TryGet("c", out _));
    }
}
