using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Skjold.Server.Observability;

namespace Skjold.Server.Tests;

public sealed partial class JsonLinesLoggerTests
{
    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "decided {Uid} for {User}: allowed={Allowed} in {ElapsedMs:0.###} ms")]
    private static partial void Decided(ILogger logger, string uid, string? user, bool allowed, double elapsedMs);

    [Fact]
    public void EachEntry_IsOneJsonLine_WithItsFieldsAndTypedState()
    {
        var output = new MemoryStream();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 4, 3, 0, 0, 123, TimeSpan.Zero));
        using (var provider = new JsonLinesLoggerProvider(output, time))
        {
            Decided(provider.CreateLogger("Skjold.Test"), "u-1", null, true, 0.25);
        }

        var lines = Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        Assert.Equal(new DateTime(2026, 12, 4, 3, 0, 0, 123, DateTimeKind.Utc), root.GetProperty("Timestamp").GetDateTime().ToUniversalTime());
        Assert.Equal(7, root.GetProperty("EventId").GetInt32());
        Assert.Equal("Information", root.GetProperty("LogLevel").GetString());
        Assert.Equal("Skjold.Test", root.GetProperty("Category").GetString());
        Assert.Equal("decided u-1 for (null): allowed=True in 0.25 ms", root.GetProperty("Message").GetString());
        var state = root.GetProperty("State");
        Assert.Equal("u-1", state.GetProperty("Uid").GetString());
        Assert.Equal(JsonValueKind.Null, state.GetProperty("User").ValueKind);
        Assert.True(state.GetProperty("Allowed").GetBoolean());
        Assert.Equal(0.25, state.GetProperty("ElapsedMs").GetDouble());
        Assert.False(state.TryGetProperty("{OriginalFormat}", out _));
        Assert.False(root.TryGetProperty("Exception", out _));
    }

    [Fact]
    public void AttackerChosenValues_CannotStartALineOfTheirOwn()
    {
        var output = new MemoryStream();
        using (var provider = new JsonLinesLoggerProvider(output))
        {
            var forged = "alice\n{\"EventId\":1,\"Message\":\"forged\"}\r\n";
            Decided(provider.CreateLogger("c"), forged, forged, false, 1);
            provider.CreateLogger("c").LogError(new InvalidOperationException("boom\nline two"), "failed");
        }

        var lines = Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        using var first = JsonDocument.Parse(lines[0]);
        Assert.StartsWith("alice\n{", first.RootElement.GetProperty("State").GetProperty("Uid").GetString(), StringComparison.Ordinal);
        using var second = JsonDocument.Parse(lines[1]);
        Assert.Equal("Error", second.RootElement.GetProperty("LogLevel").GetString());
        Assert.Contains("boom\nline two", second.RootElement.GetProperty("Exception").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ManyThreads_EveryLineWholeAndNoneLost_WhenTheQueueFillsUp()
    {
        // 8 writers x 5,000 entries: more than the queue holds, so writers wait for the pump;
        // a slow stream makes sure they do.
        var output = new SlowStream();
        using (var provider = new JsonLinesLoggerProvider(output))
        {
            var logger = provider.CreateLogger("load");
            await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(() =>
            {
                for (var i = 0; i < 5_000; i++)
                {
                    Decided(logger, $"{t}-{i}", new string('x', i % 300), i % 2 == 0, i);
                }
            })));
        }

        var lines = Encoding.UTF8.GetString(output.Inner.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(40_000, lines.Length);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            Assert.True(seen.Add(doc.RootElement.GetProperty("State").GetProperty("Uid").GetString()!));
        }

        Assert.True(output.Writes < 40_000, $"lines are written in batches, not one write each ({output.Writes} writes)");
    }

    [Fact]
    public void AClosedOutput_NeverThrowsIntoTheCaller()
    {
        var output = new MemoryStream();
        using var provider = new JsonLinesLoggerProvider(output);
        var logger = provider.CreateLogger("c");
        Decided(logger, "before", "u", true, 1);
        output.Dispose();
        for (var i = 0; i < 100; i++)
        {
            Decided(logger, "after", "u", true, 1);
        }
    }

    private sealed class SlowStream : Stream
    {
        public MemoryStream Inner { get; } = new();

        public int Writes { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => Inner.Length;

        public override long Position { get => Inner.Position; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Writes++;
            Thread.Sleep(1);
            Inner.Write(buffer);
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
