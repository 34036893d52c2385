namespace Skjold.Engine.Model;

/// <summary>
/// Findings of checks a host ran outside the pure scanner (node checks on a node, supply-chain checks against a
/// registry), with the checks that were actually evaluated, so a report counts exactly what ran; and the bytes
/// that were measured, for the report's input digest.
/// </summary>
public sealed record ExternalResults(string Label, IReadOnlyList<Finding> Findings, IReadOnlyList<string> EvaluatedChecks, byte[] Measured);
