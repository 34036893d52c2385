using Skjold.Alerts.Configuration;
using Skjold.Alerts.Outputs;
using Skjold.Detection.Falco;
using Skjold.Engine.Checks;
using Skjold.Engine.Policy;

namespace Skjold.Alerts.Tests;

public sealed class OutputsConfigTests
{
    private static string Dir()
    {
        var d = Path.Combine(Path.GetTempPath(), "skjold-outcfg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(d);
        File.WriteAllText(Path.Combine(d, "token"), "hec-token-value\n");
        Skjold.TestSupport.TestCertificates.Create(Path.Combine(d, "tls"));
        return d;
    }

    [Fact]
    public void ValidOutputs_AreBuilt_AndTheScanPolicyIgnoresTheSection()
    {
        var dir = Dir();
        var yaml = """
            pss:
              level: baseline
            outputs:
              - name: siem
                type: syslog
                address: siem.example.org:6514
                caFile: tls/ca.pem
                format: cef
                facility: authpriv
                minPriority: warning
                rateLimit: {alerts: 100, per: 1m}
              - name: local-udp
                type: syslog
                transport: udp
                address: 127.0.0.1:514
              - name: hec
                type: webhook
                shape: splunk-hec
                url: https://splunk.example.org:8088/services/collector/event
                tokenFile: token
              - name: am
                type: alertmanager
                url: http://127.0.0.1:9093
                minPriority: info
            detection:
              enabled: true
            """;
        var outputs = OutputsConfig.Parse(yaml, "skjold.yaml", dir);
        Assert.Equal(["siem", "local-udp", "hec", "am"], outputs.Select(o => o.Name));
        Assert.Equal(FalcoPriority.Warning, outputs[0].MinPriority);
        Assert.Equal(new RateLimit(100, TimeSpan.FromMinutes(1)), outputs[0].RateLimit);
        Assert.Equal("syslog+tls://siem.example.org:6514", outputs[0].Target);
        Assert.Equal(FalcoPriority.Informational, outputs[3].MinPriority);
        Assert.IsType<SyslogOutput>(outputs[1].Create(TimeProvider.System));
        Assert.IsType<WebhookOutput>(outputs[2].Create(TimeProvider.System));
        Assert.IsType<AlertmanagerOutput>(outputs[3].Create(TimeProvider.System));
        var policy = ConfigParser.Parse(yaml, "skjold.yaml", CheckCatalog.Default); // outputs: and detection: are not the scan policy's
        Assert.Equal(Skjold.Engine.Pss.PssLevel.Baseline, policy.PssLevel);
    }

    [Fact]
    public void EveryProblem_IsReportedWithItsLine_AndSecretsStayOut()
    {
        var dir = Dir();
        var yaml = """
            outputs:
              - name: siem
                type: syslog
                address: siem.example.org:6514
                transport: tcp
                facility: security
              - name: Bad_Name
                type: syslog
                address: x:1
              - name: hook
                type: webhook
                url: http://hooks.example.org/x
                tokenFile: missing-token
                colour: blue
              - name: am
                type: alertmanager
                url: https://user:pw@am.example.org
              - name: rl
                type: alertmanager
                url: https://am.example.org
                rateLimit: {alerts: 0}
                minPriority: loud
              - name: siem
                type: syslog
                address: 127.0.0.1:514
              - name: kafka
                type: kafka
            """;
        var ex = Assert.Throws<ConfigException>(() => OutputsConfig.Parse(yaml, "skjold.yaml", dir));
        var messages = ex.Errors.Select(e => e.Message).ToList();
        Has(messages, 5, "plain TCP to siem.example.org");
        Has(messages, 6, "unknown facility 'security'");
        Has(messages, 7, "'Bad_Name'");
        Has(messages, 12, "plain HTTP to hooks.example.org");
        Has(messages, 13, "cannot read");
        Has(messages, 14, "unknown key 'colour'");
        Has(messages, 17, "without credentials");
        Assert.DoesNotContain(messages, m => m.Contains("pw", StringComparison.Ordinal)); // the password in the URL is not echoed
        Has(messages, 21, "rateLimit.alerts");
        Has(messages, 22, "unknown priority 'loud'");
        Has(messages, 23, "a second output named 'siem'");
        Has(messages, 27, "unknown output type 'kafka'");
    }

    private static void Has(List<string> messages, int line, string text) =>
        Assert.True(messages.Any(m => m.StartsWith($"skjold.yaml:{line}:", StringComparison.Ordinal) && m.Contains(text, StringComparison.Ordinal)),
            $"no error at line {line} with '{text}' in:\n{string.Join('\n', messages)}");

    [Fact]
    public void TokenValues_NeverAppearInErrors()
    {
        var dir = Dir();
        var yaml = """
            outputs:
              - name: hook
                type: webhook
                url: ftp://hooks.example.org
                tokenFile: token
            """;
        var ex = Assert.Throws<ConfigException>(() => OutputsConfig.Parse(yaml, "skjold.yaml", dir));
        Assert.DoesNotContain("hec-token-value", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NoOutputsSection_IsNoOutputs()
    {
        Assert.Empty(OutputsConfig.Parse("pss:\n  level: restricted\n", "skjold.yaml", "/"));
        Assert.Empty(OutputsConfig.Parse("", "skjold.yaml", "/"));
        Assert.Empty(OutputsConfig.Parse("outputs:\n", "skjold.yaml", "/"));
    }

    [Theory]
    [InlineData("500ms", 0.5)]
    [InlineData("30s", 30)]
    [InlineData("1.5m", 90)]
    [InlineData("2h", 7200)]
    [InlineData("1d", 86400)]
    public void Durations(string text, double seconds)
    {
        Assert.True(OutputsConfig.TryParseDuration(text, out var d));
        Assert.Equal(seconds, d.TotalSeconds, 6);
    }

    [Theory]
    [InlineData("0s")]
    [InlineData("10")]
    [InlineData("-1m")]
    [InlineData("1w")]
    public void BadDurations(string text) => Assert.False(OutputsConfig.TryParseDuration(text, out _));
}
