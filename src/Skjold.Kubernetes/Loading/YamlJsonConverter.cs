using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Skjold.Kubernetes.Loading;

/// <summary>
/// Streams YAML parser events into JSON, recording each node's line and column as it goes.
/// Aliases are expanded (merge keys included) under a node budget, nesting depth and output size
/// are bounded, so hostile documents stop early with a clear error. Not thread-safe; reuse one
/// instance per thread.
/// </summary>
internal sealed partial class YamlJsonConverter
{
    private const string MergeKey = "<<";

    private readonly LoaderOptions _options;
    private readonly ArrayBufferWriter<byte> _buffer = new(16 * 1024);
    private readonly Utf8JsonWriter _writer;
    private readonly List<Frame> _frames = [];
    private readonly Dictionary<string, ParsingEvent[]> _anchors = new(StringComparer.Ordinal);
    private readonly List<Recording> _recordings = [];
    private readonly List<string> _warnings = [];
    private readonly NodeTable _table = new(256);
    private int _depth;
    private int _aliasNodes;
    private int _lineOffset;
    private int _pendingLine = -1;
    private int _pendingColumn;

    public YamlJsonConverter(LoaderOptions options)
    {
        _options = options;
        _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions
        {
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            MaxDepth = options.MaxDepth + 8,
        });
    }

    /// <summary>
    /// Converts every document in <paramref name="text"/> (normally one). Lines are reported as
    /// <paramref name="lineOffset"/> plus the line within the text. Throws <see cref="YamlException"/>
    /// for syntax errors and <see cref="LoadLimitException"/> when a limit is hit.
    /// </summary>
    public List<ConvertedDocument> Convert(string text, int lineOffset) => Convert(new StringReader(text), lineOffset);

    /// <summary>Converts the documents read from <paramref name="reader"/>; see <see cref="Convert(string, int)"/>.</summary>
    public List<ConvertedDocument> Convert(TextReader reader, int lineOffset)
    {
        _lineOffset = lineOffset;
        var result = new List<ConvertedDocument>(1);
        var parser = new Parser(reader);
        var inDocument = false;
        try
        {
            while (parser.MoveNext())
            {
                var e = parser.Current!;
                switch (e)
                {
                    case StreamStart or StreamEnd or Comment:
                        break;
                    case DocumentStart:
                        BeginDocument();
                        inDocument = true;
                        break;
                    case DocumentEnd:
                        result.Add(EndDocument());
                        inDocument = false;
                        break;
                    default:
                        Record(e);
                        Handle(e, e.Start);
                        break;
                }
            }
        }
        finally
        {
            if (inDocument)
            {
                ResetWriter();
            }
        }

        return result;
    }

    private void BeginDocument()
    {
        ResetWriter();
        _table.Clear();
        _anchors.Clear();
        _recordings.Clear();
        _warnings.Clear();
        _depth = 0;
        _aliasNodes = 0;
        _pendingLine = -1;
    }

    private ConvertedDocument EndDocument()
    {
        _writer.Flush();
        var json = _buffer.WrittenCount == 0 ? "null"u8.ToArray() : _buffer.WrittenSpan.ToArray();
        var doc = new ConvertedDocument(json, _table.Compact(), _warnings.Count == 0 ? [] : [.. _warnings]);
        ResetWriter();
        return doc;
    }

    private void ResetWriter()
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        _depth = 0;
    }

    private Frame? Top => _depth == 0 ? null : _frames[_depth - 1];

    private void Handle(ParsingEvent e, Mark mark)
    {
        var frame = Top;
        if (frame is { IsMapping: true })
        {
            if (frame.MergeSequence)
            {
                HandleMergeSequence(frame, e, mark);
                return;
            }

            if (frame.MergeNext)
            {
                HandleMerge(frame, e, mark);
                return;
            }

            if (frame.ExpectKey)
            {
                HandleKey(frame, e, mark);
                return;
            }
        }

        switch (e)
        {
            case Scalar s:
                WriteScalar(s);
                AddNode(mark);
                ValueDone();
                break;
            case MappingStart:
                _writer.WriteStartObject();
                Push(true, AddNode(mark), mark);
                break;
            case SequenceStart:
                _writer.WriteStartArray();
                Push(false, AddNode(mark), mark);
                break;
            case SequenceEnd when frame is { IsMapping: false }:
                _writer.WriteEndArray();
                _table.Close(frame.Node);
                _depth--;
                ValueDone();
                break;
            case AnchorAlias alias:
                Replay(alias.Value.Value, mark);
                break;
            default:
                throw new YamlException(mark, mark, $"unexpected {e.GetType().Name} in YAML");
        }
    }

    private void HandleKey(Frame frame, ParsingEvent e, Mark mark)
    {
        switch (e)
        {
            case Scalar s:
                if (s.Style == ScalarStyle.Plain && s.Value == MergeKey && s.Tag.IsEmpty)
                {
                    frame.MergeNext = true;
                    frame.ExpectKey = false;
                    return;
                }

                WriteKey(frame, s.Value, mark, merged: false);
                break;
            case MappingEnd:
                _writer.WriteEndObject();
                _table.Close(frame.Node);
                _depth--;
                ValueDone();
                break;
            case AnchorAlias alias when _anchors.TryGetValue(alias.Value.Value, out var events) && events is [Scalar keyScalar]:
                WriteKey(frame, keyScalar.Value, mark, merged: false);
                break;
            default:
                throw new YamlException(mark, mark, "mapping keys must be plain values; complex keys are not supported in Kubernetes objects");
        }
    }

    private void WriteKey(Frame frame, string key, Mark mark, bool merged)
    {
        if (!frame.Keys.Add(key))
        {
            // A key written by a merge (<<) may be overridden by an explicit one; that is not a duplicate.
            if (merged || !frame.MergedKeys.Remove(key))
            {
                _warnings.Add($"line {Line(mark)}: duplicate key '{key}'; the last value is used");
            }
        }
        else if (merged)
        {
            frame.MergedKeys.Add(key);
        }

        _writer.WritePropertyName(key);
        _pendingLine = Line(mark);
        _pendingColumn = (int)mark.Column;
        frame.ExpectKey = false;
    }

    private void WriteScalar(Scalar s)
    {
        if (!s.Tag.IsEmpty && s.Tag.Value != "!")
        {
            YamlScalars.WriteTagged(_writer, s.Tag.Value, s.Value);
        }
        else if (s.Style == ScalarStyle.Plain && s.Tag.IsEmpty)
        {
            YamlScalars.WritePlain(_writer, s.Value);
        }
        else
        {
            _writer.WriteStringValue(s.Value);
        }
    }

    private int AddNode(Mark mark)
    {
        if (_buffer.WrittenCount + _writer.BytesPending > _options.MaxDocumentBytes)
        {
            throw new LoadLimitException("document-too-large",
                $"document is larger than {_options.MaxDocumentBytes:N0} bytes when converted; refused", Line(mark), (int)mark.Column);
        }

        int node;
        if (_pendingLine >= 0)
        {
            node = _table.Add(_pendingLine, _pendingColumn);
            _pendingLine = -1;
        }
        else
        {
            node = _table.Add(Line(mark), (int)mark.Column);
        }

        return node;
    }

    private void Push(bool isMapping, int node, Mark mark)
    {
        if (_depth >= _options.MaxDepth)
        {
            throw new LoadLimitException("too-deep", $"document nests deeper than {_options.MaxDepth} levels; refused", Line(mark), (int)mark.Column);
        }

        if (_depth == _frames.Count)
        {
            _frames.Add(new Frame());
        }

        var frame = _frames[_depth++];
        frame.IsMapping = isMapping;
        frame.ExpectKey = isMapping;
        frame.MergeNext = false;
        frame.MergeSequence = false;
        frame.Node = node;
        frame.Keys.Clear();
        frame.MergedKeys.Clear();
    }

    private void ValueDone()
    {
        if (Top is { IsMapping: true } frame)
        {
            frame.ExpectKey = true;
        }
    }

    private int Line(Mark mark) => (int)mark.Line + _lineOffset;

    private sealed class Frame
    {
        public bool IsMapping;
        public bool ExpectKey;
        public bool MergeNext;
        public bool MergeSequence;
        public int Node;
        public readonly HashSet<string> Keys = new(StringComparer.Ordinal);
        public readonly HashSet<string> MergedKeys = new(StringComparer.Ordinal);
    }

    private sealed class Recording(string name, List<ParsingEvent> events, int depth)
    {
        public string Name { get; } = name;

        public List<ParsingEvent> Events { get; } = events;

        public int Depth { get; set; } = depth;
    }
}
