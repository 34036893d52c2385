using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Skjold.Reports;

/// <summary>A JSON writer onto a TextWriter that hands on what it has written every 64 KiB, so a long report never sits whole in memory.</summary>
internal sealed class JsonTextOutput : IDisposable
{
    private const int FlushAt = 64 * 1024;

    private readonly MemoryStream _buffer = new();
    private readonly TextWriter _output;

    public JsonTextOutput(TextWriter output)
    {
        _output = output;
        Writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    public Utf8JsonWriter Writer { get; }

    /// <summary>Passes the written text on once enough has accumulated.</summary>
    public void MaybeFlush()
    {
        if (Writer.BytesPending + _buffer.Length >= FlushAt)
        {
            Flush();
        }
    }

    public void Flush()
    {
        Writer.Flush();
        if (_buffer.Length > 0)
        {
            _output.Write(Encoding.UTF8.GetString(_buffer.GetBuffer(), 0, (int)_buffer.Length));
            _buffer.SetLength(0);
        }
    }

    public void Dispose()
    {
        Writer.Dispose();
        _buffer.Dispose();
    }
}
