using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using Skjold.Alerts.Formats;
using Skjold.Alerts.Outbox;
using Skjold.Alerts.Outputs;
using Skjold.TestSupport;
using Xunit.Abstractions;

namespace Skjold.Alerts.Tests;

/// <summary>Delivery to a real rsyslog over TCP+TLS (RFC 5425) and UDP (RFC 5426), read back from the file it writes.</summary>
[Collection(nameof(RsyslogTests))]
public sealed partial class RsyslogTests(ITestOutputHelper output)
{
    private static readonly AlertDispatcherOptions Options = new()
    {
        InitialBackoff = TimeSpan.FromMilliseconds(100),
        MaxBackoff = TimeSpan.FromSeconds(1),
        PollInterval = TimeSpan.FromMilliseconds(100),
        ConfirmInterval = TimeSpan.FromMilliseconds(50),
        DrainTimeout = TimeSpan.FromSeconds(10),
    };

    private static SyslogOutput Tls(Rsyslog r, string name, SyslogMessageFormat format = SyslogMessageFormat.Rfc5424, X509Certificate2Collection? cas = null) => new(name, new SyslogOutputSettings
    {
        Host = "127.0.0.1",
        Port = r.TlsPort,
        Transport = SyslogTransport.Tls,
        Format = format,
        TrustedCas = cas ?? [r.Certificates.Ca],
        ServerName = "localhost",
        Hostname = "skjold-test",
        ConfirmAfter = TimeSpan.FromSeconds(1),
    });

    [Fact]
    public async Task TlsRfc5424_AndUdpCef_ArriveOnceEach_AndAreValid()
    {
        using var rsyslog = new Rsyslog();
        await using var box = AlertOutbox.Sqlite(TestAlerts.TempFile(AlertOutbox.FileName));
        var udp = new SyslogOutput("udp", new SyslogOutputSettings { Host = "127.0.0.1", Port = rsyslog.UdpPort, Transport = SyslogTransport.Udp, Format = SyslogMessageFormat.Cef, Hostname = "skjold-test" });
        await using var d = new AlertDispatcher(box, [new(Tls(rsyslog, "tls")), new(udp, BatchSize: 20)], NullLogger.Instance, options: Options);
        await d.StartAsync();
        var alerts = Enumerable.Range(0, 200).Select(i => TestAlerts.Make(i, output: $"exec into pod web-{i} \"x\" ] \\ ø")).ToList();
        foreach (var chunk in alerts.Chunk(20))
        {
            await d.EnqueueAsync(chunk);
            await Task.Delay(10); // UDP has no flow control: do not overrun the receiver's socket buffer
        }

        await TestAlerts.Eventually(() => rsyslog.Lines().Count >= 400, "400 messages in rsyslog's file");
        await TestAlerts.Eventually(() => d.Stats["tls"].Delivered == 200, "confirmation of the TLS stream");
        var lines = rsyslog.Lines();
        var messages = lines.Select(SyslogMessage.Parse).ToList();
        var rfc = messages.Where(m => m.MsgId == "alert").ToList();
        var cef = messages.Where(m => m.MsgId == "cef").ToList();
        Assert.Equal(alerts.Select(a => a.Id).Order(), rfc.Select(m => m.Data["skjold@32473"]["id"]).Order());
        Assert.Equal(alerts.Select(a => a.Id).Order(), cef.Select(m => CefRecord.Parse(m.Message).Extensions["externalId"]).Order());
        var first = rfc.Single(m => m.Data["skjold@32473"]["id"] == alerts[3].Id);
        Assert.Equal(alerts[3].Output, first.Message);
        Assert.Equal((16 * 8) + 4, first.Pri);
        Assert.Equal("skjold-test", first.Host);
        Assert.Equal(alerts[5].Output, CefRecord.Parse(cef.Single(m => CefRecord.Parse(m.Message).Extensions["externalId"] == alerts[5].Id).Message).Extensions["msg"]);
        Assert.Equal(0, await box.DepthAsync("tls"));
    }

    [Fact]
    public async Task ReceiverStoppedAndRestartedMidStream_NothingLost_DuplicatesCarryTheSameId()
    {
        using var rsyslog = new Rsyslog();
        await using var box = AlertOutbox.Sqlite(TestAlerts.TempFile(AlertOutbox.FileName));
        await using var d = new AlertDispatcher(box, [new(Tls(rsyslog, "siem"), BatchSize: 100)], NullLogger.Instance, options: Options);
        await d.StartAsync();
        var alerts = Enumerable.Range(0, 10_000).Select(i => TestAlerts.Make(i)).ToList();
        var chunks = alerts.Chunk(250).ToList();
        for (var c = 0; c < chunks.Count; c++)
        {
            await d.EnqueueAsync(chunks[c]);
            await Task.Delay(25);
            if (c == 16)
            {
                rsyslog.Stop(); // an operator restarts the SIEM's collector mid-stream
                await Task.Delay(1500);
                rsyslog.Start();
            }
        }

        await TestAlerts.Eventually(async () => await box.DepthAsync("siem") == 0, "the outbox to drain", 120);
        var ids = rsyslog.Lines().Select(l => IdPattern().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();
        var distinct = ids.ToHashSet(StringComparer.Ordinal);
        output.WriteLine($"received {ids.Count} messages, {distinct.Count} distinct, {ids.Count - distinct.Count} duplicates; {d.Stats["siem"].Failures} failed attempts");
        Assert.True(d.Stats["siem"].Failures > 0, "the outage was noticed");
        Assert.Equal(alerts.Select(a => a.Id).ToHashSet(StringComparer.Ordinal), distinct); // none lost
        Assert.All(rsyslog.Lines().Take(50), l => SyslogMessage.Parse(l));
    }

    [Fact]
    public async Task ReceiverWithACertificateFromAnotherCa_IsRefused_AndNothingIsSent()
    {
        using var rsyslog = new Rsyslog();
        var other = TestCertificates.Create(Path.Combine(Path.GetTempPath(), "skjold-other-ca-" + Guid.NewGuid().ToString("N")[..8]));
        await using var box = AlertOutbox.Sqlite(TestAlerts.TempFile(AlertOutbox.FileName));
        await using var d = new AlertDispatcher(box, [new(Tls(rsyslog, "siem", cas: [other.Ca]))], NullLogger.Instance, options: Options);
        await d.StartAsync();
        await d.EnqueueAsync([TestAlerts.Make(1)]);
        await TestAlerts.Eventually(() => d.Stats["siem"].Failures >= 2, "refused handshakes");
        Assert.Contains("syslog 127.0.0.1", d.Stats["siem"].LastError, StringComparison.Ordinal);
        Assert.Empty(rsyslog.Lines());
        Assert.Equal(1, await box.DepthAsync("siem")); // kept for when the configuration is fixed
    }

    [GeneratedRegex(" id=\"([0-9a-f]{32})\"")]
    private static partial Regex IdPattern();
}
