using System.Text;
using Skjold.Alerts.Formats;
using Skjold.Detection.Falco;

namespace Skjold.Alerts.Tests;

public sealed class FormatTests
{
    private static readonly Alert Tricky = TestAlerts.Make(7, rule: "Read \"secret\" [prod] \\ x|y", priority: FalcoPriority.Critical,
        output: "user=bob read secret db-pass\nin ns=prod ] \"quoted\" \\ ø漢") with
    {
        Fields = new Dictionary<string, string> { ["user"] = "bob \"the\" ]builder[", ["sourceIP"] = "10.0.0.5", ["namespace"] = "prod", ["weird key=x"] = "v" },
    };

    [Fact]
    public void Rfc5424_HeaderPriorityStructuredDataAndMessage_RoundTrip()
    {
        var f = new SyslogFormatter(SyslogMessageFormat.Rfc5424, facility: 10, hostname: "node a\u00e6");
        var text = Encoding.UTF8.GetString(f.Format(Tricky));
        var m = SyslogMessage.Parse(text);
        Assert.Equal((10 * 8) + 2, m.Pri); // authpriv.crit
        Assert.Equal(Tricky.Time, m.Time);
        Assert.Equal("node_a_", m.Host); // space and non-ASCII are not allowed in HOSTNAME
        Assert.Equal("skjold", m.App);
        Assert.Equal("-", m.ProcId);
        Assert.Equal("alert", m.MsgId);
        var sd = m.Data[$"skjold@{SyslogFormatter.DefaultEnterpriseNumber}"];
        Assert.Equal(Tricky.Id, sd["id"]);
        Assert.Equal(Tricky.Rule, sd["rule"]);
        Assert.Equal("Critical", sd["priority"]);
        Assert.Equal("7", sd["leaves"]);
        Assert.Equal("bob \"the\" ]builder[", sd["user"]);
        Assert.Equal("v", sd["weird_key_x"]);
        Assert.True(m.Bom);
        Assert.Equal("user=bob read secret db-pass in ns=prod ] \"quoted\" \\ ø漢", m.Message); // one line
        Assert.DoesNotContain('\n', text);
    }

    [Fact]
    public void Rfc5424_LongMessage_IsCutToTheLimitAtACharacterBoundary()
    {
        var alert = TestAlerts.Make(1, output: string.Concat(Enumerable.Repeat("漢字ø", 400)));
        var f = new SyslogFormatter(SyslogMessageFormat.Rfc5424, 16, "h", maxBytes: 480);
        var bytes = f.Format(alert);
        Assert.True(bytes.Length <= 480, $"{bytes.Length} bytes");
        Assert.True(bytes.Length > 400, "the room is used");
        var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
        var m = SyslogMessage.Parse(strict.GetString(bytes)); // throws on a cut sequence
        Assert.StartsWith("漢字ø", m.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cef_EscapesHeaderAndExtensionsAndMapsSeverity()
    {
        var cef = CefFormatter.Format(Tricky);
        Assert.DoesNotContain('\n', cef);
        var r = CefRecord.Parse(cef);
        Assert.Equal(["CEF:0", "Skjold", "Skjold"], r.Header.Take(3));
        Assert.Equal(Tricky.Rule, r.Header[4]);
        Assert.Equal(Tricky.Rule, r.Header[5]);
        Assert.Equal("8", r.Header[6]); // critical
        Assert.Equal(Tricky.Output, r.Extensions["msg"]);
        Assert.Equal(Tricky.Id, r.Extensions["externalId"]);
        Assert.Equal("10.0.0.5", r.Extensions["src"]);
        Assert.Equal("bob \"the\" ]builder[", r.Extensions["suser"]);
        Assert.Equal(Tricky.Time.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture), r.Extensions["rt"]);
    }

    [Theory]
    [InlineData(FalcoPriority.Emergency, 10)]
    [InlineData(FalcoPriority.Alert, 9)]
    [InlineData(FalcoPriority.Critical, 8)]
    [InlineData(FalcoPriority.Error, 7)]
    [InlineData(FalcoPriority.Warning, 5)]
    [InlineData(FalcoPriority.Notice, 3)]
    [InlineData(FalcoPriority.Informational, 1)]
    [InlineData(FalcoPriority.Debug, 0)]
    public void Cef_SeverityScale(FalcoPriority p, int expected) => Assert.Equal(expected, CefFormatter.Severity((int)p));

    [Fact]
    public void CefOverSyslog_HasAHeaderAndTheRecordAsMessage()
    {
        var f = new SyslogFormatter(SyslogMessageFormat.Cef, 16, "node1");
        var m = SyslogMessage.Parse(Encoding.UTF8.GetString(f.Format(Tricky)));
        Assert.Equal("cef", m.MsgId);
        Assert.False(m.Bom); // SIEMs look for "CEF:" at the start of MSG
        Assert.Empty(m.Data);
        Assert.Equal(Tricky.Id, CefRecord.Parse(m.Message).Extensions["externalId"]);
    }

    [Fact]
    public void AlertIds_AreStableForTheSameCauseAndDifferOtherwise()
    {
        Assert.Equal(Alert.IdFor("r", "k8s_audit", [1, 2]), Alert.IdFor("r", "k8s_audit", [1, 2]));
        Assert.NotEqual(Alert.IdFor("r", "k8s_audit", [1, 2]), Alert.IdFor("r", "k8s_audit", [12]));
        Assert.NotEqual(Alert.IdFor("r", "k8s_audit", [1]), Alert.IdFor("s", "k8s_audit", [1]));
        Assert.Matches("^[0-9a-f]{32}$", Alert.IdFor("r", "k8s_audit", [1]));
    }

    [Theory]
    [InlineData("local0", 16)]
    [InlineData("authpriv", 10)]
    [InlineData("LOCAL7", 23)]
    [InlineData("4", 4)]
    public void Facilities_ByNameOrNumber(string text, int expected)
    {
        Assert.True(SyslogFormatter.TryParseFacility(text, out var f));
        Assert.Equal(expected, f);
    }

    [Theory]
    [InlineData("24")]
    [InlineData("-1")]
    [InlineData("security")]
    public void Facilities_Unknown(string text) => Assert.False(SyslogFormatter.TryParseFacility(text, out _));
}
