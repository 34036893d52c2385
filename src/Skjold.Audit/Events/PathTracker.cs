namespace Skjold.Audit.Events;

/// <summary>The current position while walking an event: member names and array indexes from the root (no boxing).</summary>
public sealed class PathTracker
{
    private string?[] _names = new string?[32];
    private int[] _indexes = new int[32];

    public int Depth { get; private set; }

    /// <summary>The segment at <paramref name="i"/>: a member name, or a boxed index (for diagnostics only).</summary>
    public object this[int i] => _names[i] ?? (object)_indexes[i];

    public bool IsIndex(int i) => i < Depth && _names[i] is null;

    public void Push(string name)
    {
        Grow();
        _names[Depth++] = name;
    }

    public void Push(int index)
    {
        Grow();
        _names[Depth] = null;
        _indexes[Depth++] = index;
    }

    public void Pop() => Depth--;

    /// <summary>Empties the path for the next document (trackers are reused).</summary>
    public void Reset() => Depth = 0;

    private static readonly string[] KnownNames =
        ["requestObject", "responseObject", "items", "data", "stringData", "metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration", "binaryData"];

    /// <summary>
    /// The names redaction decides on, as shared strings; any other name becomes the empty string, so
    /// walking an event allocates no names. Configured extra fields are matched through the raw name.
    /// </summary>
    public static string Known(ReadOnlySpan<byte> rawName)
    {
        foreach (var k in KnownNames)
        {
            if (rawName.Length == k.Length && System.Text.Encoding.ASCII.GetByteCount(k) == rawName.Length && Matches(rawName, k))
            {
                return k;
            }
        }

        // Names registered by redaction rules; most stores have none, and no name is made to look one up.
        if (ExtraNames.IsEmpty || rawName.Length > 256)
        {
            return ExtraNames.IsEmpty ? string.Empty : ExtraNames.TryGetValue(System.Text.Encoding.UTF8.GetString(rawName), out var longName) ? longName : string.Empty;
        }

        Span<char> chars = stackalloc char[256];
        var n = System.Text.Encoding.UTF8.GetChars(rawName, chars);
        return ExtraNames.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(chars[..n], out var extra) ? extra : string.Empty;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> ExtraNames = new(StringComparer.Ordinal);

    /// <summary>Makes a configured redaction field name visible to <see cref="Known"/>.</summary>
    public static void RegisterName(string name) => ExtraNames[name] = name;

    private static bool Matches(ReadOnlySpan<byte> raw, string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (raw[i] != s[i])
            {
                return false;
            }
        }

        return true;
    }

    public bool Is(int i, string name) => i < Depth && _names[i] is { } s && s == name;

    public string? Name(int i) => i < Depth ? _names[i] : null;

    public override string ToString() => string.Join(".", Enumerable.Range(0, Depth).Select(i => this[i]));

    private void Grow()
    {
        if (Depth == _names.Length)
        {
            Array.Resize(ref _names, Depth * 2);
            Array.Resize(ref _indexes, Depth * 2);
        }
    }
}
