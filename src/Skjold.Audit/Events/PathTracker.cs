namespace Skjold.Audit.Events;

/// <summary>The current position while walking an event: member names and array indexes from the root.</summary>
public sealed class PathTracker
{
    private readonly List<object> _segments = [];

    public int Depth => _segments.Count;

    public object this[int i] => _segments[i];

    public void Push(string name) => _segments.Add(name);

    public void Push(int index) => _segments.Add(index);

    public void Pop() => _segments.RemoveAt(_segments.Count - 1);

    public bool Is(int i, string name) => i < _segments.Count && _segments[i] is string s && s == name;

    public override string ToString() => string.Join(".", _segments);
}
