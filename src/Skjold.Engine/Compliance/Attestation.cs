using Skjold.Engine.Model;

namespace Skjold.Engine.Compliance;

/// <summary>
/// A person's statement that a control software cannot check is met (<c>attestations:</c> in
/// skjold.yaml): who, when, where the evidence is, and how long it stays valid.
/// </summary>
public sealed record Attestation(string Framework, string Control, string By, DateOnly Date, int ValidDays, string Evidence, string? Note, SourceLocation? Location)
{
    public DateOnly ValidUntil => Date.AddDays(ValidDays);

    public bool IsValidOn(DateOnly day) => day >= Date && day <= ValidUntil;
}
