using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Skjold.Kubernetes.Loading;

/// <summary>Anchors, aliases and merge keys: events recorded under an anchor, replayed for an alias within the alias budget, and merged into a mapping.</summary>
internal sealed partial class YamlJsonConverter
{
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
}
