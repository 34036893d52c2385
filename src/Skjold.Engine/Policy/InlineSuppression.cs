using Skjold.Engine.Model;

namespace Skjold.Engine.Policy;

/// <summary>
/// The <c>skjold.io/suppress</c> annotation on a resource: comma-separated check ids (or patterns
/// ending in <c>*</c>), with the reason in <c>skjold.io/suppress-reason</c>. Without a reason the
/// annotation is ignored and a warning is reported.
/// </summary>
internal sealed class InlineSuppression
{
    private readonly string[] _checks;

    private InlineSuppression(string[] checks, string reason)
    {
        _checks = checks;
        Reason = reason;
    }

    public string Reason { get; }

    public bool Covers(string checkId) => Exemption.AnyMatch(_checks, checkId);

    public static InlineSuppression? Read(Resource resource, List<Diagnostic> diagnostics)
    {
        var annotations = Json.Get(Json.Get(resource.Root, "metadata"u8), "annotations"u8);
        var list = Json.GetString(annotations, Scanner.SuppressAnnotation);
        if (string.IsNullOrWhiteSpace(list))
        {
            return null;
        }

        var reason = Json.GetString(annotations, Scanner.SuppressReasonAnnotation);
        if (string.IsNullOrWhiteSpace(reason))
        {
            diagnostics.Add(Diagnostic.Warning("suppress-without-reason",
                $"{resource.Ref}: annotation {Scanner.SuppressAnnotation} is ignored because {Scanner.SuppressReasonAnnotation} is missing",
                resource.Location));
            return null;
        }

        var checks = list.Split([',', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new InlineSuppression(checks, reason);
    }
}
