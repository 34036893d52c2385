using System.Text.Json;

namespace Skjold.Engine.Admission;

/// <summary>The parts of an AdmissionReview request that decide the verdict.</summary>
public sealed record AdmissionInput(
    string Uid,
    string Operation,
    string Kind,
    string Resource,
    string? SubResource,
    string? Namespace,
    string? Name,
    string Username,
    IReadOnlyList<string> Groups,
    bool DryRun,
    JsonElement Object,
    JsonElement OldObject);
