namespace Skjold.Engine.Model;

/// <summary>
/// One violated check on one resource field. <see cref="Path"/> is the JSON path of the offending
/// field relative to the resource (for example <c>spec.template.spec.containers[0].securityContext.privileged</c>).
/// </summary>
public sealed record Finding(
    string CheckId,
    Severity Severity,
    ResourceRef Resource,
    string Path,
    string Message,
    string Remediation,
    SourceLocation? Location);
