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
internal sealed class YamlJsonConverter
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

    private void HandleMerge(Frame frame, ParsingEvent e, Mark mark)
    {
        frame.MergeNext = false;
        switch (e)
        {
            case AnchorAlias alias:
                MergeAnchor(frame, alias.Value.Value, mark);
                frame.ExpectKey = true;
                break;
            case SequenceStart:
                frame.MergeSequence = true;
                break;
            default:
                throw new YamlException(mark, mark, "the value of a merge key (<<) must be an alias or a list of aliases");
        }
    }

    private void HandleMergeSequence(Frame frame, ParsingEvent e, Mark mark)
    {
        switch (e)
        {
            case AnchorAlias alias:
                MergeAnchor(frame, alias.Value.Value, mark);
                break;
            case SequenceEnd:
                frame.MergeSequence = false;
                frame.ExpectKey = true;
                break;
            default:
                throw new YamlException(mark, mark, "a merge key (<<) list may contain only aliases");
        }
    }

    /// <summary>
    /// Merges the entries of an anchored mapping; keys already present win. Nested merges (an anchored
    /// mapping that itself has <c>&lt;&lt;: *x</c> or <c>&lt;&lt;: [*x, *y]</c>) are followed. Every
    /// merge and every entry it visits counts against the alias budget, so repeated or chained merges
    /// cannot grow exponentially.
    /// </summary>
    private void MergeAnchor(Frame frame, string anchor, Mark mark)
    {
        var events = Lookup(anchor, mark);
        if (events is not [MappingStart, .., MappingEnd])
        {
            throw new YamlException(mark, mark, $"merge key (<<) refers to '{anchor}', which is not a mapping");
        }

        Spend(mark);

        // Values replayed below are ordinary values of this mapping, not parts of a merge list.
        var (mergeNext, mergeSequence) = (frame.MergeNext, frame.MergeSequence);
        frame.MergeNext = frame.MergeSequence = false;
        try
        {
            var i = 1;
            while (i < events.Length - 1)
            {
                if (events[i] is not Scalar key)
                {
                    throw new YamlException(mark, mark, "mapping keys must be plain values");
                }

                Spend(mark);
                var valueStart = i + 1;
                var valueEnd = SkipNode(events, valueStart);
                if (key.Style == ScalarStyle.Plain && key.Value == MergeKey && key.Tag.IsEmpty)
                {
                    foreach (var nested in MergeSources(events, valueStart, valueEnd, mark))
                    {
                        MergeAnchor(frame, nested, mark);
                    }
                }
                else if (!frame.Keys.Contains(key.Value))
                {
                    WriteKey(frame, key.Value, mark, merged: true);
                    for (var j = valueStart; j < valueEnd; j++)
                    {
                        ReplayEvent(events[j], mark);
                    }
                }

                i = valueEnd;
            }
        }
        finally
        {
            (frame.MergeNext, frame.MergeSequence) = (mergeNext, mergeSequence);
            frame.ExpectKey = !mergeNext && !mergeSequence;
        }
    }

    /// <summary>The anchors a recorded merge value names: one alias, or a list of aliases.</summary>
    private static IEnumerable<string> MergeSources(ParsingEvent[] events, int start, int end, Mark mark)
    {
        if (events[start] is AnchorAlias single)
        {
            yield return single.Value.Value;
            yield break;
        }

        if (events[start] is not SequenceStart)
        {
            throw new YamlException(mark, mark, "the value of a merge key (<<) must be an alias or a list of aliases");
        }

        for (var k = start + 1; k < end - 1; k++)
        {
            yield return events[k] is AnchorAlias a ? a.Value.Value : throw new YamlException(mark, mark, "a merge key (<<) list may contain only aliases");
        }
    }

    private void Spend(Mark mark)
    {
        if (++_aliasNodes > _options.MaxAliasNodes)
        {
            throw new LoadLimitException("alias-limit",
                $"YAML aliases and merge keys expand to more than {_options.MaxAliasNodes:N0} nodes (an alias or merge bomb?); document refused",
                Line(mark), (int)mark.Column);
        }
    }

    private void Replay(string anchor, Mark mark)
    {
        foreach (var e in Lookup(anchor, mark))
        {
            ReplayEvent(e, mark);
        }
    }

    private void ReplayEvent(ParsingEvent e, Mark mark)
    {
        // An alias that is the value of a merge key (inside a replayed mapping) names what to
        // merge; it is not expanded as a value.
        if (e is AnchorAlias inner && !(Top is { IsMapping: true } frame && (frame.MergeNext || frame.MergeSequence)))
        {
            Replay(inner.Value.Value, mark);
            return;
        }

        if (e is Scalar or MappingStart or SequenceStart)
        {
            Spend(mark);
        }

        Handle(e, mark);
    }

    private ParsingEvent[] Lookup(string anchor, Mark mark) =>
        _anchors.TryGetValue(anchor, out var events)
            ? events
            : throw new YamlException(mark, mark, $"alias '*{anchor}' refers to an anchor that is not defined before it");

    private static int SkipNode(ParsingEvent[] events, int start)
    {
        if (events[start] is not (MappingStart or SequenceStart))
        {
            return start + 1;
        }

        var depth = 0;
        var i = start;
        do
        {
            depth += events[i] switch
            {
                MappingStart or SequenceStart => 1,
                MappingEnd or SequenceEnd => -1,
                _ => 0,
            };
            i++;
        }
        while (depth > 0 && i < events.Length);
        return i;
    }

    private void Record(ParsingEvent e)
    {
        var delta = e switch
        {
            MappingStart or SequenceStart => 1,
            MappingEnd or SequenceEnd => -1,
            _ => 0,
        };

        for (var i = _recordings.Count - 1; i >= 0; i--)
        {
            var r = _recordings[i];
            r.Events.Add(e);
            r.Depth += delta;
            if (r.Depth == 0)
            {
                _anchors[r.Name] = [.. r.Events];
                _recordings.RemoveAt(i);
            }
        }

        if (e is NodeEvent { Anchor.IsEmpty: false } node)
        {
            if (delta == 0)
            {
                _anchors[node.Anchor.Value] = [e];
            }
            else
            {
                _recordings.Add(new Recording(node.Anchor.Value, [e], delta));
            }
        }
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
