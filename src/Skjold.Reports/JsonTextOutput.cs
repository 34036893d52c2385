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
    private char[]? _chars;
    private Decoder? _decoder;

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
        if (_buffer.Length == 0)
        {
            return;
        }

        var bytes = _buffer.GetBuffer().AsSpan(0, (int)_buffer.Length);
        if (_output is StreamWriter { Encoding: UTF8Encoding } file)
        {
            // A UTF-8 file or stdout: the bytes go straight to its stream (after what the writer
            // holds), not decoded to text for the writer to encode again.
            file.Flush();
            file.BaseStream.Write(bytes);
        }
        else
        {
            // Decoded into a reused buffer: a 64 KiB string per flush would be a large-object allocation each time.
            _chars ??= new char[FlushAt + 4096];
            var decoder = _decoder ??= Encoding.UTF8.GetDecoder();
            while (bytes.Length > 0)
            {
                decoder.Convert(bytes, _chars, flush: false, out var used, out var written, out _);
                _output.Write(_chars, 0, written);
                bytes = bytes[used..];
            }
        }

        _buffer.SetLength(0);
    }

    public void Dispose()
    {
        Writer.Dispose();
        _buffer.Dispose();
    }
}
