using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Skjold.Server.Observability;

/// <summary>
/// Logs as JSON lines (one object per entry: Timestamp, EventId, LogLevel, Category, Message,
/// Exception when there is one, and State with each named value of the message), formatted on the
/// caller's thread and written by one background writer that hands whole batches of lines to the
/// stream. The console logger's writer wakes and writes once per entry, which at 1,000 admission
/// decisions a second cost more than the evaluation itself; here a burst is one write. Nothing is
/// dropped: a full queue (10,000 lines) makes the caller wait, as the console logger does.
/// </summary>
public sealed class JsonLinesLoggerProvider : ILoggerProvider
{
    private static readonly Lazy<JsonLinesWriter> Stdout = new(() =>
    {
        var writer = new JsonLinesWriter(Console.OpenStandardOutput());
        AppDomain.CurrentDomain.ProcessExit += (_, _) => writer.Flush(TimeSpan.FromSeconds(2));
        return writer;
    });

    private readonly JsonLinesWriter _writer;
    private readonly bool _ownsWriter;
    private readonly TimeProvider _time;

    /// <summary>Writes to <paramref name="output"/>, which the provider owns from now on.</summary>
    public JsonLinesLoggerProvider(Stream output, TimeProvider? time = null)
        : this(new JsonLinesWriter(output), true, time)
    {
    }

    private JsonLinesLoggerProvider(JsonLinesWriter writer, bool owns, TimeProvider? time)
    {
        _writer = writer;
        _ownsWriter = owns;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The process's standard output, shared by every provider that writes there (so lines never interleave).</summary>
    public static JsonLinesLoggerProvider StandardOutput(TimeProvider? time = null) => new(Stdout.Value, false, time);

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _writer, _time);

    /// <summary>Writes what is queued (at most 2 s); closes the stream when the provider owns it.</summary>
    public void Dispose()
    {
        if (_ownsWriter)
        {
            _writer.Dispose();
        }
        else
        {
            _writer.Flush(TimeSpan.FromSeconds(2));
        }
    }

    private sealed class Logger(string category, JsonLinesWriter writer, TimeProvider time) : ILogger
    {
        [ThreadStatic]
        private static ArrayBufferWriter<byte>? t_buffer;

        [ThreadStatic]
        private static Utf8JsonWriter? t_json;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
            buffer.ResetWrittenCount();
            var json = t_json ??= new Utf8JsonWriter(buffer);
            json.Reset(buffer);
            json.WriteStartObject();
            json.WriteString("Timestamp"u8, time.GetUtcNow().UtcDateTime);
            json.WriteNumber("EventId"u8, eventId.Id);
            json.WriteString("LogLevel"u8, LevelName(logLevel));
            json.WriteString("Category"u8, category);
            json.WriteString("Message"u8, formatter(state, exception));
            if (exception is not null)
            {
                json.WriteString("Exception"u8, exception.ToString());
            }

            if (state is IReadOnlyList<KeyValuePair<string, object?>> values)
            {
                json.WriteStartObject("State"u8);
                for (var i = 0; i < values.Count; i++)
                {
                    var (key, value) = values[i];
                    if (key != "{OriginalFormat}")
                    {
                        WriteValue(json, key, value);
                    }
                }

                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.Flush();
            writer.Enqueue(buffer.WrittenSpan);
        }

        private static void WriteValue(Utf8JsonWriter json, string key, object? value)
        {
            switch (value)
            {
                case null:
                    json.WriteNull(key);
                    break;
                case string s:
                    json.WriteString(key, s);
                    break;
                case bool b:
                    json.WriteBoolean(key, b);
                    break;
                case int n:
                    json.WriteNumber(key, n);
                    break;
                case long n:
                    json.WriteNumber(key, n);
                    break;
                case double d when double.IsFinite(d):
                    json.WriteNumber(key, d);
                    break;
                case IFormattable f:
                    json.WriteString(key, f.ToString(null, CultureInfo.InvariantCulture));
                    break;
                default:
                    json.WriteString(key, value.ToString());
                    break;
            }
        }

        private static string LevelName(LogLevel level) => level switch
        {
            LogLevel.Trace => "Trace",
            LogLevel.Debug => "Debug",
            LogLevel.Information => "Information",
            LogLevel.Warning => "Warning",
            LogLevel.Error => "Error",
            _ => "Critical",
        };
    }
}

/// <summary>The one writer of a stream: lines queued by any thread, written in batches by a background task.</summary>
internal sealed class JsonLinesWriter : IDisposable
{
    private const int Capacity = 10_000;
    private const int BlockSize = 32 * 1024;
    private readonly Stream _output;
    private readonly Channel<(byte[] Buffer, int Length)> _queue =
        Channel.CreateBounded<(byte[], int)>(new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly Task _pump;
    private long _queued;
    private long _written;

    public JsonLinesWriter(Stream output)
    {
        _output = output;
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>Queues one line (a newline is added); waits while the queue is full.</summary>
    public void Enqueue(ReadOnlySpan<byte> line)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(line.Length + 1);
        line.CopyTo(buffer);
        buffer[line.Length] = (byte)'\n';
        Interlocked.Increment(ref _queued);
        if (!_queue.Writer.TryWrite((buffer, line.Length + 1)))
        {
            try
            {
                _queue.Writer.WriteAsync((buffer, line.Length + 1)).AsTask().GetAwaiter().GetResult();
            }
            catch (ChannelClosedException)
            {
                Interlocked.Increment(ref _written); // logged after disposal: nowhere to go
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>Waits (at most <paramref name="timeout"/>) until every line queued before the call is written.</summary>
    public void Flush(TimeSpan timeout)
    {
        var target = Interlocked.Read(ref _queued);
        var until = DateTime.UtcNow + timeout;
        while (Interlocked.Read(ref _written) < target && DateTime.UtcNow < until && !_pump.IsCompleted)
        {
            Thread.Sleep(1);
        }
    }

    /// <summary>Writes what is queued (waiting at most 10 s for a slow stream), then closes the stream.</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _pump.Wait(TimeSpan.FromSeconds(10));
        _output.Dispose();
    }

    private async Task PumpAsync()
    {
        var block = new byte[BlockSize];
        var reader = _queue.Reader;
        var failed = false;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var used = 0;
            var lines = 0;
            while (reader.TryRead(out var line))
            {
                if (used + line.Length > block.Length)
                {
                    failed |= !Write(block.AsSpan(0, used), failed);
                    used = 0;
                }

                if (line.Length > block.Length)
                {
                    failed |= !Write(line.Buffer.AsSpan(0, line.Length), failed);
                }
                else
                {
                    line.Buffer.AsSpan(0, line.Length).CopyTo(block.AsSpan(used));
                    used += line.Length;
                }

                ArrayPool<byte>.Shared.Return(line.Buffer);
                lines++;
            }

            failed |= !Write(block.AsSpan(0, used), failed);
            if (!failed)
            {
                try
                {
                    _output.Flush();
                }
                catch (Exception ex) when (ex is IOException or ObjectDisposedException or NotSupportedException)
                {
                    failed = true;
                }
            }

            Interlocked.Add(ref _written, lines);
        }
    }

    /// <summary>Writes unless an earlier write failed (a closed pipe): logging never takes the server down.</summary>
    private bool Write(ReadOnlySpan<byte> bytes, bool failed)
    {
        if (failed || bytes.IsEmpty)
        {
            return !failed;
        }

        try
        {
            _output.Write(bytes);
            return true;
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or NotSupportedException)
        {
            return false;
        }
    }
}
