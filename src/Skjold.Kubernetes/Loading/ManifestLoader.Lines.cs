using System.Text.Json;
using System.Text.Unicode;
using Skjold.Engine.Model;
using YamlDotNet.Core;

namespace Skjold.Kubernetes.Loading;

/// <summary>Lines, offsets and messages for diagnostics: line starts, invalid UTF-8 reported by line, YAML messages cleaned.</summary>
public sealed partial class ManifestLoader
{
    /// <summary>The byte offset where line <paramref name="line"/> (1-based) starts, or the end.</summary>
    private static int LineStart(ReadOnlySpan<byte> content, int line)
    {
        var at = 0;
        for (var l = 1; l < line && at < content.Length; l++)
        {
            var next = content[at..].IndexOf((byte)'\n');
            if (next < 0)
            {
                return content.Length;
            }

            at += next + 1;
        }

        return at;
    }

    /// <summary>The first line at or after <paramref name="from"/> whose first non-blank byte starts a JSON value ({ or [).</summary>
    private static int NextValueLine(ReadOnlySpan<byte> content, int from)
    {
        var at = from;
        while (at < content.Length)
        {
            var i = at;
            while (i < content.Length && content[i] is (byte)' ' or (byte)'\t' or (byte)'\r')
            {
                i++;
            }

            if (i < content.Length && content[i] is (byte)'{' or (byte)'[')
            {
                return at;
            }

            var next = content[at..].IndexOf((byte)'\n');
            if (next < 0)
            {
                break;
            }

            at += next + 1;
        }

        return content.Length;
    }
    private static HashSet<int> ReportInvalidUtf8(string name, ReadOnlySpan<byte> content, List<Diagnostic> diagnostics)
    {
        var lines = new HashSet<int>();
        var offset = 0;
        var scratch = new char[4096];
        while (offset < content.Length)
        {
            var status = Utf8.ToUtf16(content[offset..], scratch, out var read, out _, replaceInvalidSequences: false, isFinalBlock: true);
            offset += read;
            if (status == System.Buffers.OperationStatus.InvalidData)
            {
                var (line, lineStart) = LineAt(content, offset);
                if (lines.Add(line))
                {
                    var column = offset - lineStart + 1;
                    Report(diagnostics, Diagnostic.Error("invalid-utf8",
                        $"{name}:{line}:{column}: invalid UTF-8 byte 0x{content[offset]:X2}; the document containing it is skipped",
                        new SourceLocation(name, line, column)));
                }

                offset++;
            }
            else if (status == System.Buffers.OperationStatus.Done)
            {
                break;
            }
        }

        return lines;
    }

    private static bool ChunkHasBadLine(YamlDocumentSplitter.Chunk chunk, ReadOnlySpan<byte> chunkText, HashSet<int> badLines)
    {
        var lineCount = 1;
        foreach (var c in chunkText)
        {
            if (c == (byte)'\n')
            {
                lineCount++;
            }
        }

        for (var l = chunk.FirstLine; l < chunk.FirstLine + lineCount; l++)
        {
            if (badLines.Contains(l))
            {
                return true;
            }
        }

        return false;
    }

    private static (int Line, int LineStart) LineAt(ReadOnlySpan<byte> content, int offset)
    {
        var line = 1;
        var lineStart = 0;
        var end = Math.Min(offset, content.Length);
        for (var i = 0; i < end; i++)
        {
            if (content[i] == (byte)'\n')
            {
                line++;
                lineStart = i + 1;
            }
        }

        return (line, lineStart);
    }

    private static byte FirstNonSpace(ReadOnlySpan<byte> span)
    {
        foreach (var b in span)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                return b;
            }
        }

        return 0;
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "list",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => kind.ToString().ToLowerInvariant(),
    };

    private static string CleanYamlMessage(YamlException ex)
    {
        // YamlDotNet prefixes "(Line: 3, Col: 5, Idx: 20) - (Line: ...): "; we print our own position.
        var m = ex.Message;
        var i = m.IndexOf("): ", StringComparison.Ordinal);
        return i >= 0 && m.StartsWith('(') ? m[(i + 3)..] : m;
    }
}
