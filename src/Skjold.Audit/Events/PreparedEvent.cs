namespace Skjold.Audit.Events;

/// <summary>An event ready to seal: its canonical (redacted) bytes, leaf hash and indexed fields.</summary>
public sealed record PreparedEvent(byte[] Canonical, byte[] LeafHash, AuditRecord Fields);
