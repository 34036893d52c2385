namespace Skjold.Detection.Falco;

/// <summary>An exception of a rule: tuples of field values for which the rule does not fire.</summary>
public sealed record FalcoException(string Name, IReadOnlyList<string> Fields, IReadOnlyList<string> Comps, List<IReadOnlyList<string>> Values, bool SingleField);
