namespace Skjold.Kubernetes.Loading;

/// <summary>A <see cref="TextReader"/> over part of a string, so documents are parsed without copying them out.</summary>
internal sealed class StringSegmentReader(string text, int start, int length) : TextReader
{
    private readonly int _end = start + length;
    private int _position = start;

    public override int Peek() => _position < _end ? text[_position] : -1;

    public override int Read() => _position < _end ? text[_position++] : -1;

    public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

    public override int Read(Span<char> buffer)
    {
        var n = Math.Min(buffer.Length, _end - _position);
        if (n <= 0)
        {
            return 0;
        }

        text.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }
}
