namespace Skjold.Kubernetes.Loading;

/// <summary>
/// Splits a YAML stream at document markers (<c>---</c> and <c>...</c> at the start of a line)
/// so that each document is parsed on its own and an error in one does not lose the others.
/// YAML forbids these markers at column 0 inside content, so the split is exact. Works on the
/// UTF-8 bytes (the markers and line ends are ASCII and never part of a multi-byte character), so a
/// large file is decoded one document at a time instead of into one string of twice its size.
/// </summary>
internal static class YamlDocumentSplitter
{
    public readonly record struct Chunk(int Start, int Length, int FirstLine);

    public static List<Chunk> Split(ReadOnlySpan<byte> text)
    {
        var chunks = new List<Chunk>();
        var chunkStart = 0;
        var chunkLine = 1;
        var line = 1;
        var pos = 0;
        while (pos < text.Length)
        {
            var eol = text[pos..].IndexOf((byte)'\n') is var at and >= 0 ? pos + at : -1;
            var lineEnd = eol < 0 ? text.Length : eol;
            var next = eol < 0 ? text.Length : eol + 1;
            if (IsMarker(text, pos, lineEnd, (byte)'-'))
            {
                // "---" starts a new document; the marker line belongs to it.
                if (pos > chunkStart)
                {
                    chunks.Add(new Chunk(chunkStart, pos - chunkStart, chunkLine));
                }

                chunkStart = pos;
                chunkLine = line;
            }
            else if (IsMarker(text, pos, lineEnd, (byte)'.'))
            {
                // "..." ends the current document; the marker line belongs to it.
                chunks.Add(new Chunk(chunkStart, next - chunkStart, chunkLine));
                chunkStart = next;
                chunkLine = line + 1;
            }

            pos = next;
            line++;
        }

        if (text.Length > chunkStart)
        {
            chunks.Add(new Chunk(chunkStart, text.Length - chunkStart, chunkLine));
        }

        return chunks;
    }

    private static bool IsMarker(ReadOnlySpan<byte> text, int start, int end, byte c)
    {
        if (end - start < 3 || text[start] != c || text[start + 1] != c || text[start + 2] != c)
        {
            return false;
        }

        return end - start == 3 || text[start + 3] is (byte)' ' or (byte)'\t' or (byte)'\r';
    }
}
