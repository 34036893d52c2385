namespace Skjold.Engine.Model;

/// <summary>A finding that an exemption or an inline annotation waived, with the recorded reason.</summary>
public sealed record SuppressedFinding(Finding Finding, string Reason, string Source);
