using System.Text.Json;

namespace Skjold.Detection.Falco;

/// <summary>
/// One event as the compiled rules see it: each field (with its argument) is extracted at most once
/// per event, however many rules and macros ask for it.
/// </summary>
internal sealed class AuditEventView
{
    private readonly FieldTable _table;
    private List<string>?[] _values;
    private sbyte[] _macros;

    internal AuditEventView(FieldTable table)
    {
        _table = table;
        _values = new List<string>?[table.Count];
        _macros = new sbyte[table.MacroCount];
    }

    public JsonElement Event { get; private set; }

    /// <summary>Points the view at another event, forgetting the values of the last one.</summary>
    internal void Reset(JsonElement audit)
    {
        Event = audit;
        if (_values.Length != _table.Count)
        {
            _values = new List<string>?[_table.Count];
        }
        else
        {
            Array.Clear(_values);
        }

        if (_macros.Length != _table.MacroCount)
        {
            _macros = new sbyte[_table.MacroCount];
        }
        else
        {
            Array.Clear(_macros);
        }
    }

    /// <summary>A macro's value for this event, evaluated once however many rules use it.</summary>
    internal bool Macro(int slot, CompiledCondition condition)
    {
        var known = _macros[slot];
        if (known != 0)
        {
            return known > 0;
        }

        var value = condition(this);
        _macros[slot] = value ? (sbyte)1 : (sbyte)-1;
        return value;
    }

    internal FieldTable Table => _table;

    internal List<string> Get(int slot) => _values[slot] ??= _table.Extractor(slot)(Event);
}

/// <summary>The (field, argument) pairs a rule set's conditions read, numbered once at compile time.</summary>
internal sealed class FieldTable
{
    private readonly Dictionary<(string, string?), int> _slots = [];
    private readonly List<(string Name, string? Arg)> _fields = [];
    private readonly List<Func<JsonElement, List<string>>> _extractors = [];

    public int Count => _fields.Count;

    private readonly Dictionary<string, int> _macroSlots = new(StringComparer.Ordinal);

    public int MacroCount => _macroSlots.Count;

    public int MacroSlot(string name)
    {
        if (!_macroSlots.TryGetValue(name, out var slot))
        {
            slot = _macroSlots.Count;
            _macroSlots[name] = slot;
        }

        return slot;
    }

    public int Slot(string name, string? arg)
    {
        if (!_slots.TryGetValue((name, arg), out var slot))
        {
            slot = _fields.Count;
            _fields.Add((name, arg));
            _extractors.Add(K8sAuditFields.Bind(name, arg));
            _slots[(name, arg)] = slot;
        }

        return slot;
    }

    public Func<JsonElement, List<string>> Extractor(int slot) => _extractors[slot];

    public string Name(int slot) => _fields[slot].Name;

    public string? Argument(int slot) => _fields[slot].Arg;
}
