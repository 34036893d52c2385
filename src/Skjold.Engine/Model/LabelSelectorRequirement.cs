namespace Skjold.Engine.Model;

public sealed record LabelSelectorRequirement(string Key, LabelOperator Operator, IReadOnlyList<string> Values);
